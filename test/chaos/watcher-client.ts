/**
 * A chaos watcher: a recursive watch on the workload's directory that follows the cluster through
 * faults. It starts at a given index, and whenever the connection ends, stalls or fails it resumes
 * at (last delivered modifiedIndex + 1) on a randomly chosen member, so the events it collects
 * should be every committed event in order, without gaps or duplicates. Long-poll and streaming
 * watchers exercise both watch paths of the server.
 */
import { request, type ClientRequest } from 'node:http';
import type { SimRng } from '../sim/rng.js';
import type { WatchEvent } from './checker/index.js';

/** A stretch of the watch: events from `fromIndex` on. A new segment starts when history was cleared (401). */
export interface WatchSegment {
  fromIndex: number;
  events: WatchEvent[];
}

/** Options of a {@link WatcherClient}. */
export interface WatcherClientOptions {
  id: string;
  /** The watched directory, e.g. `/chaos`. */
  dir: string;
  fromIndex: number;
  mode: 'long-poll' | 'stream';
  targets: () => readonly string[];
  rng: SimRng;
  /** A connection with no data for this long is abandoned (the member may be paused or cut off). */
  idleTimeoutMs: number;
  /**
   * When set, the watcher hangs up on its own after a random time in `cutEveryMs` and stays away
   * for a random time in `awayMs`, so that it resumes with a backlog of events to catch up on.
   */
  selfCut?: { cutEveryMs: [number, number]; awayMs: [number, number] };
}

interface RawEvent {
  action?: string;
  node?: { key?: string; modifiedIndex?: number; value?: string };
  errorCode?: number;
  index?: number;
  message?: string;
}

/** One watcher; see the module comment. */
export class WatcherClient {
  readonly segments: WatchSegment[];
  /** Things that went wrong other than connection trouble (401s, malformed lines), for the report. */
  readonly notes: string[] = [];
  reconnects = 0;
  /** Watches a member refused at its connection limit (503), during a connection flood. */
  refused = 0;
  private nextIndex: number;
  private current: ClientRequest | undefined;
  private stopped = false;
  private cutByUs = false;

  constructor(private readonly opts: WatcherClientOptions) {
    this.nextIndex = opts.fromIndex;
    this.segments = [{ fromIndex: opts.fromIndex, events: [] }];
  }

  /** The modifiedIndex of the last delivered event, or fromIndex - 1. */
  get lastIndex(): number {
    return this.nextIndex - 1;
  }

  /** Watches until {@link stop}. */
  async run(): Promise<void> {
    while (!this.stopped) {
      const target = this.opts.rng.pick(this.opts.targets());
      const before = this.nextIndex;
      await this.watchOnce(target);
      if (this.stopped) break;
      if (this.cutByUs) {
        this.cutByUs = false;
        const away = this.opts.selfCut!.awayMs;
        await new Promise((r) => setTimeout(r, this.opts.rng.between(away[0], away[1])));
      } else if (this.nextIndex === before) {
        // Ended without news: an error, a cut connection or an idle timeout (a long poll's normal end has an event).
        this.reconnects += 1;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Ends the watch loop and the open request. */
  stop(): void {
    this.stopped = true;
    this.current?.destroy();
  }

  private watchOnce(base: string): Promise<void> {
    const stream = this.opts.mode === 'stream' ? '&stream=true' : '';
    const path = `/v2/keys${this.opts.dir}?wait=true&recursive=true&waitIndex=${this.nextIndex}${stream}`;
    const url = new URL(base);
    return new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, path, method: 'GET', agent: false });
      this.current = req;
      let idle: NodeJS.Timeout | undefined;
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => req.destroy(), this.opts.idleTimeoutMs);
      };
      const done = () => {
        clearTimeout(idle);
        resolve();
      };
      touch();
      let cut: NodeJS.Timeout | undefined;
      if (this.opts.selfCut) {
        const every = this.opts.selfCut.cutEveryMs;
        cut = setTimeout(() => {
          this.cutByUs = true;
          req.destroy();
        }, this.opts.rng.between(every[0], every[1]));
      }
      req.on('close', () => clearTimeout(cut));
      req.on('error', done);
      req.on('response', (res) => {
        if (res.statusCode === 503) {
          // The member's connection limit: the watch was never registered; try again.
          this.refused += 1;
          res.resume();
          res.on('end', done);
          res.on('close', done);
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          touch();
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            this.accept(buffer.slice(0, nl));
            buffer = buffer.slice(nl + 1);
          }
        });
        res.on('end', () => {
          this.accept(buffer);
          done();
        });
        res.on('error', done);
        res.on('close', done);
      });
      req.end();
    });
  }

  private accept(line: string): void {
    if (line.trim() === '') return;
    let raw: RawEvent;
    try {
      raw = JSON.parse(line) as RawEvent;
    } catch {
      // A cut connection can leave half a line; only the complete lines count.
      return;
    }
    if (raw.errorCode !== undefined) {
      if (raw.errorCode === 401) {
        // The member's event history no longer reaches back this far: the window ends here.
        this.notes.push(`${this.opts.id}: history cleared at waitIndex ${this.nextIndex} (${raw.message ?? ''}, index ${raw.index ?? '?'})`);
        this.nextIndex = (raw.index ?? this.nextIndex) + 1;
        this.segments.push({ fromIndex: this.nextIndex, events: [] });
      } else if (raw.errorCode !== 300) {
        this.notes.push(`${this.opts.id}: watch error ${line.slice(0, 200)}`);
      }
      return;
    }
    const node = raw.node;
    if (raw.action === undefined || node?.key === undefined || node.modifiedIndex === undefined) {
      this.notes.push(`${this.opts.id}: malformed event ${line.slice(0, 200)}`);
      return;
    }
    const event: WatchEvent = { action: raw.action, key: node.key, modifiedIndex: node.modifiedIndex };
    if (node.value !== undefined) event.value = node.value;
    this.segments[this.segments.length - 1]!.events.push(event);
    // Even a duplicate or out-of-order event moves us on; the checker reports it.
    this.nextIndex = Math.max(this.nextIndex, node.modifiedIndex + 1);
  }
}
