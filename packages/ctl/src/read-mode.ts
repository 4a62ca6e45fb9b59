/** The `--serializable` / `--quorum` flags of the read commands (`get`, `ls`, `watch`) and what they ask of the server. */
import { Flags } from '@oclif/core';

/** `--serializable`: answer from the member's own store, without a quorum. */
export const serializableFlag = Flags.boolean({
  description: 'answer from the contacted member\'s local store without asking a quorum: works without a leader, but may be stale (default: linearizable, which needs a quorum)',
  exclusive: ['quorum'],
});

/** `--quorum`: kept for etcdctl scripts; reads are already linearizable by default. */
export const quorumFlag = Flags.boolean({
  char: 'q',
  description: 'linearizable read through a quorum (the default; kept for etcdctl compatibility)',
  exclusive: ['serializable'],
});

/** The get options of a read: serializable only when asked, linearizable otherwise. */
export function readModeOption(flags: { serializable?: boolean; quorum?: boolean }): { serializable?: boolean; quorum?: boolean } {
  if (flags.serializable) return { serializable: true };
  return flags.quorum ? { quorum: true } : {};
}
