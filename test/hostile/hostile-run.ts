/**
 * The hostile-client suite against a real 3-member cluster: every raw framing case against every
 * member, then seeded fast-check batches of hostile requests (keys, members, stats, info, raw
 * framing), each followed by the liveness check (every member alive, answering /version); every
 * `restartEvery` batches and at the end, a rolling restart of every member and equal keyspace
 * hashes; after the raw round and every chunk of batches, no member may have printed node's
 * listener-leak warning (MaxListenersExceededWarning). A failing batch is shrunk by fast-check; its
 * report gives the seed, the replay path and the smallest batch found, and the report carries the
 * members' last output.
 */
import fc from 'fast-check';
import { DeimosCluster, runConcurrently } from '../support/deimos-cluster.js';
import { rawAnswerProblem, requestAnswerProblem } from './answer-check.js';
import { aliveProblems, leakWarningProblems, removeUnstarted, restartExited, rollingRestartProblems } from './cluster-checks.js';
import { exchange } from './exchange.js';
import type { HostileStep } from './hostile-request.js';
import { RAW_FRAMING_CASES, type RawFramingCase } from './raw-framing-cases.js';
import { stepArb } from './step-arbitrary.js';

/** Options of a hostile run. */
export interface HostileOptions {
  seed: number;
  /** Number of batches (fast-check runs). */
  runs: number;
  /** Most steps in one batch. */
  maxBatch: number;
  /** Batches between rolling restarts (a restart always ends the run). */
  restartEvery: number;
  /**
   * Draw raw framing cases into batches too (default). Off, a framing case that fails today cannot
   * stop the batches early, so a long run explores the request space past it.
   */
  rawInBatches: boolean;
  /** fast-check's replay path of a reported failure (with the seed of its chunk). */
  path?: string;
  /** Deadline of an ordinary request / a watch (aborted then) / a raw framing case. */
  requestDeadlineMs: number;
  watchDeadlineMs: number;
  rawDeadlineMs: number;
  /** Steps of a batch in flight at once. */
  concurrency: number;
  /** Stop generating and shrinking after this long (ms) per chunk of batches; none when undefined. */
  chunkTimeLimitMs?: number;
  log: (line: string) => void;
}

/** Defaults of the CLI; CI overrides runs and the time limit. */
export const DEFAULT_HOSTILE_OPTIONS: HostileOptions = {
  seed: 1, runs: 30, maxBatch: 12, rawInBatches: true, restartEvery: 50, requestDeadlineMs: 15_000, watchDeadlineMs: 1_000, rawDeadlineMs: 10_000, concurrency: 6, log: () => undefined,
};

/** The outcome of a run. */
export interface HostileReport {
  ok: boolean;
  /** One entry per failure: a raw case, a fast-check report (seed, path, counterexample), a restart. */
  failures: string[];
  steps: number;
  /** Answers seen by status (or 'closed', 'timeout', 'error'). */
  statuses: Record<string, number>;
  /** The members' last output, when something failed. */
  outputs?: string;
}

class Session {
  readonly failures: string[] = [];
  readonly statuses: Record<string, number> = {};
  steps = 0;
  /** A member could not be brought back: further batches would only repeat that. */
  fatal: string | undefined;
  /** Members whose listener-leak warning is already among the failures. */
  private readonly leakWarned = new Set<string>();

  constructor(readonly cluster: DeimosCluster, readonly o: HostileOptions) {}

  private tally(key: string): void {
    this.statuses[key] = (this.statuses[key] ?? 0) + 1;
  }

  /** Runs one step; its problem, with the step described, or undefined. */
  async step(step: HostileStep): Promise<string | undefined> {
    this.steps += 1;
    const members = this.cluster.members;
    const m = members[step.member % members.length]!;
    let problem: string | undefined;
    if (step.kind === 'raw') {
      problem = await this.raw(m.clientUrl, step.rawCase);
    } else {
      const deadlineMs = step.mayHang ? this.o.watchDeadlineMs : this.o.requestDeadlineMs;
      const ex = await exchange(m.clientUrl, { chunks: [step.toBytes(new URL(m.clientUrl).host)], deadlineMs, headFor: () => step.method === 'HEAD' });
      this.tally(ex.answers[0] ? String(ex.answers[0].status) : ex.timedOut ? 'timeout' : 'closed');
      problem = requestAnswerProblem(step, ex, deadlineMs);
    }
    return problem === undefined ? undefined : `${step.describe()}\n    -> ${problem}`;
  }

  async raw(url: string, rawCase: RawFramingCase): Promise<string | undefined> {
    const answers = rawCase.expect === 'serve' ? (rawCase.count ?? 1) : 1;
    const ex = await exchange(url, { chunks: rawCase.chunks, halfClose: rawCase.halfClose, answers, deadlineMs: this.o.rawDeadlineMs });
    this.tally(ex.answers[0] ? `raw ${ex.answers[0].status}` : ex.timedOut ? 'raw timeout' : 'raw closed');
    return rawAnswerProblem(rawCase, ex, this.o.rawDeadlineMs);
  }

  /** Every raw framing case against every member, a few at a time. */
  async rawRound(): Promise<void> {
    const jobs = this.cluster.members.flatMap((m) => RAW_FRAMING_CASES.map((c) => ({ m, c })));
    const problems: string[] = [];
    await runConcurrently(jobs.length, this.o.concurrency, async (i) => {
      const { m, c } = jobs[i]!;
      const p = await this.raw(m.clientUrl, c);
      if (p !== undefined) problems.push(`raw case "${c.name}" on ${m.name}: ${p}`);
    });
    this.failures.push(...problems);
    const alive = await aliveProblems(this.cluster);
    if (alive.length > 0) this.failures.push(`after the raw framing cases: ${alive.join('; ')}`);
    this.checkLeakWarnings('the raw framing cases');
    await this.heal();
  }

  /**
   * Reports each member that printed node's listener-leak warning (once per member): a listener
   * added per request or chunk on a long-lived socket, which the answers alone do not show.
   */
  checkLeakWarnings(after: string): void {
    for (const { name, problem } of leakWarningProblems(this.cluster, this.leakWarned)) {
      this.leakWarned.add(name);
      this.failures.push(`after ${after}: ${problem}`);
    }
  }

  /** Brings exited members back before a batch; a member that cannot come back is fatal. */
  async heal(): Promise<void> {
    if (this.fatal !== undefined) return;
    try {
      const back = await restartExited(this.cluster);
      if (back.length > 0) this.o.log(`restarted exited members ${back.map((m) => m.name).join(', ')}`);
    } catch (err) {
      this.fatal = `a member could not be restarted: ${(err as Error).message.slice(0, 2_000)}`;
      this.failures.push(this.fatal);
    }
  }

  /** The property over one batch: steps concurrently, then liveness and the removal of added members. */
  async batch(steps: HostileStep[]): Promise<void> {
    await this.heal();
    if (this.fatal !== undefined) return; // every batch would fail; let fast-check stop shrinking
    const problems: string[] = [];
    await runConcurrently(steps.length, this.o.concurrency, async (i) => {
      const p = await this.step(steps[i]!);
      if (p !== undefined) problems.push(p);
    });
    const alive = await aliveProblems(this.cluster);
    problems.push(...alive);
    if (alive.length === 0) {
      try {
        await removeUnstarted(this.cluster);
      } catch (err) {
        problems.push(`removing added members: ${(err as Error).message}`);
      }
    }
    if (problems.length > 0) throw new Error(`${problems.length} problems:\n  ${problems.join('\n  ')}`);
  }
}

/** Runs the suite; never throws for a finding (see the report), only for a cluster that cannot start. */
export async function runHostile(options: Partial<HostileOptions> = {}): Promise<HostileReport> {
  const o: HostileOptions = { ...DEFAULT_HOSTILE_OPTIONS, ...options };
  const cluster = await DeimosCluster.start({ size: 3 });
  const s = new Session(cluster, o);
  try {
    o.log(`hostile run: seed ${o.seed}, ${o.runs} batches of up to ${o.maxBatch} steps, rolling restart every ${o.restartEvery} batches`);
    await s.rawRound();
    o.log(`raw framing round: ${RAW_FRAMING_CASES.length} cases x ${cluster.members.length} members, ${s.failures.length} problems`);
    const property = fc.asyncProperty(fc.array(stepArb(cluster.members.length, o.rawInBatches), { minLength: 1, maxLength: o.maxBatch }), (steps) => s.batch(steps));
    for (let chunk = 0, done = 0; done < o.runs && s.fatal === undefined; chunk++) {
      const runs = Math.min(o.restartEvery, o.runs - done);
      const seed = o.seed + chunk;
      const details = await fc.check(property, {
        seed, numRuns: runs, path: chunk === 0 ? o.path : undefined, interruptAfterTimeLimit: o.chunkTimeLimitMs, timeout: 180_000, includeErrorInReport: true,
      });
      done += runs;
      if (details.failed) {
        s.failures.push(`batches ${done - runs + 1}..${done}, replay with --seed ${seed} --runs ${runs}:\n${fc.defaultReportMessage(details)}`);
        o.log(`batch failure (seed ${seed}); counterexample shrunk`);
      } else {
        o.log(`batches ${done - runs + 1}..${done} (seed ${seed}): ${details.numRuns} runs passed${details.interrupted ? ' (interrupted by the time limit)' : ''}`);
      }
      s.checkLeakWarnings(`batches ${done - runs + 1}..${done}`);
      await s.heal();
      if (s.fatal !== undefined) break;
      try {
        await removeUnstarted(cluster);
      } catch (err) {
        s.failures.push(`before the rolling restart, removing added members: ${(err as Error).message}`);
      }
      s.failures.push(...await rollingRestartProblems(cluster, o.log));
    }
    s.checkLeakWarnings('the rolling restarts');
    o.log(`${s.steps} steps; answers by status: ${JSON.stringify(s.statuses)}`);
    const ok = s.failures.length === 0;
    return { ok, failures: s.failures, steps: s.steps, statuses: s.statuses, outputs: ok ? undefined : cluster.outputs() };
  } finally {
    await cluster.destroy();
  }
}
