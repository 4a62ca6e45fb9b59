/**
 * The harness's view of the peer network: a rule per directed link between members (by name),
 * and the member-ID-to-name map the proxies need to turn an `X-Deimos-From` header into a name.
 */
import type { LinkRule, RuleLookup } from './fault-proxy.js';

const PASS: LinkRule = { mode: 'pass' };

/** Directed link rules between named members; unlisted links pass. */
export class LinkTable {
  private readonly rules = new Map<string, LinkRule>();
  private readonly names = new Map<string, string>();
  private readonly listeners: Array<() => void> = [];

  /** Records that member `id` (hex) is `name`; a re-added member gets a second ID for the same name. */
  learnId(id: string, name: string): void {
    this.names.set(id.toLowerCase(), name);
  }

  /** Calls `listener` after every change of the rules (the proxies re-apply them to open connections). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The rule lookup of the proxy in front of member `to`. */
  lookupFor(to: string): RuleLookup {
    return (fromId) => {
      const from = fromId === undefined ? undefined : this.names.get(fromId);
      // Unnamed senders (a joining member's discovery GET, or an ID not yet learned) always pass.
      if (from === undefined) return PASS;
      return this.rules.get(`${from}>${to}`) ?? PASS;
    };
  }

  /** Sets the rule of the link `from` -> `to`. */
  set(from: string, to: string, rule: LinkRule): void {
    if (rule.mode === 'pass' && (rule.delayMs ?? 0) === 0) this.rules.delete(`${from}>${to}`);
    else this.rules.set(`${from}>${to}`, rule);
    this.changed();
  }

  /** Blocks every link between members of different groups, both ways. */
  partition(groups: readonly (readonly string[])[], mode: 'drop' | 'blackhole' = 'drop'): void {
    for (const [i, a] of groups.entries()) {
      for (const [j, b] of groups.entries()) {
        if (i === j) continue;
        for (const from of a) for (const to of b) this.rules.set(`${from}>${to}`, { mode });
      }
    }
    this.changed();
  }

  /** Blocks only the links `from` -> each of `to` (an asymmetric, one-way fault). */
  blockOneWay(from: string, to: readonly string[], mode: 'drop' | 'blackhole' = 'drop'): void {
    for (const t of to) this.rules.set(`${from}>${t}`, { mode });
    this.changed();
  }

  /** Removes every rule. */
  heal(): void {
    this.rules.clear();
    this.changed();
  }

  /** The current rules as `a>b:mode` strings, for the run log. */
  describe(): string {
    return [...this.rules].map(([link, r]) => `${link}:${r.mode}${r.delayMs ? `+${r.delayMs}ms` : ''}`).join(' ') || 'none';
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
