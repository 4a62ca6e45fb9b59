import type { Interfaces } from '@oclif/core';

/**
 * The same positional arguments with oclif's stdin fallback turned off. oclif fills a missing
 * argument from stdin (a readline with a 10 ms timeout, lines joined with EOL and trimmed): that took
 * keys from a pipe (`echo /victim | deimosctl rm` deleted /victim), ate the input of a `while read`
 * loop, and consumed the first part of a piped value before `valueOrStdin` read the rest. deimosctl
 * reads stdin itself, and only for a value (see `DeimosCommand.valueOrStdin`).
 */
export function withoutStdin<A extends Interfaces.ArgInput>(args: A | undefined): A {
  const out: Record<string, Interfaces.Arg<unknown>> = {};
  for (const [name, arg] of Object.entries(args ?? {})) out[name] = { ...(arg as Interfaces.Arg<unknown>), ignoreStdin: true };
  return out as A;
}
