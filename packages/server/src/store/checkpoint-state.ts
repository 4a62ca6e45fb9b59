/** The word a member's thread and its checkpoint thread share (see background-checkpointer.ts). */
export const enum CheckpointState {
  /** Nobody checkpoints; either side may take it. */
  Idle = 0,
  /** The checkpoint thread runs a PASSIVE checkpoint. */
  Busy = 1,
  /** The member's thread holds it (its own checkpoint, a restore, closing). */
  Paused = 2,
  /** The thread closed its connection and ends. */
  Stopped = 3,
}

/** What the checkpoint thread is started with. */
export interface CheckpointThreadData {
  path: string;
  /** One Int32 holding a {@link CheckpointState}. */
  state: SharedArrayBuffer;
  intervalMs: number;
}
