/**
 * The body of a `get` answer as text, rendered in bounded steps: the same bytes as rendering the
 * event object and serializing it with Go's escaping (`renderTree` then `eventToGoJson`), produced
 * by an explicit stack that can stop after any node and go on later. A small answer is rendered in
 * one step on the live tree; a big one in slices over a `TreeView`, so that no read holds the event
 * loop (and raft's heartbeats) for long and no listing is ever held whole in memory. Iterative: a
 * key may be thousands of levels deep.
 */
import { goJsonString } from '../http/go-json.js';
import type { StoreNode } from './node.js';
import { formatRfc3339Nano, remainingTtlSeconds, visibleChildren } from './render.js';
import type { RenderTreeOptions } from './render.js';
import { IncrementalSort } from './incremental-sort.js';
import { ROOT_PATH, compareKeys } from './store-path.js';
import type { NodeState, TreeSource, TreeView } from './tree-view.js';

/** Bounds of one rendering step; it stops at the first node past either. */
export interface RenderStepLimits {
  /** Work units (one per node rendered, plus the cost of copying and sorting child lists). */
  readonly maxWork: number;
  /** Characters of text. */
  readonly maxChars: number;
}

/** Listings longer than this are sorted in steps (see incremental-sort.ts). */
const SORT_AT_ONCE = 1024;

const byKey = (a: StoreNode, b: StoreNode): number => compareKeys(a.path, b.path);

interface Frame {
  children: StoreNode[];
  /** The children being sorted, before any is written. */
  sorting: IncrementalSort<StoreNode> | undefined;
  next: number;
  /** `"nodes":[` was written (a child is shown). */
  listed: boolean;
  /** What closes the dir: its indexes and `}`. */
  readonly close: string;
}

function expirationFields(state: NodeState, nowMs: number): string {
  const at = state.expireAtMs;
  if (at === undefined) return '';
  const ttl = remainingTtlSeconds(at, nowMs);
  return ',"expiration":"' + formatRfc3339Nano(at) + (ttl !== 0 ? '",' + '"ttl":' + ttl : '"');
}

function indexFields(state: NodeState): string {
  let out = '';
  if (state.modifiedIndex) out += ',"modifiedIndex":' + state.modifiedIndex;
  if (state.createdIndex) out += ',"createdIndex":' + state.createdIndex;
  return out + '}';
}

/** A `get` answer's body (`{"action":"get","node":...}` and a newline), rendered step by step. */
export class ListingRenderer {
  private readonly stack: Frame[] = [];
  private started = false;
  private finished = false;

  constructor(
    private readonly top: StoreNode,
    private readonly options: RenderTreeOptions,
    private readonly nowMs: number,
    private source: TreeSource,
  ) {}

  /**
   * Reads what is not rendered yet from `source` instead: a step rendered on the live tree goes on
   * over a view opened in the same synchronous call (the child lists already taken are the view's).
   */
  continueOver(source: TreeSource): void {
    this.source = source;
  }

  /** Whether the whole body has been rendered. */
  get done(): boolean {
    return this.finished;
  }

  /**
   * Renders the next part of the body, stopping once past `limits` (a step always makes progress;
   * one node's value may take it past `maxChars`). Answers '' once done.
   */
  render(limits: RenderStepLimits): string {
    if (this.finished) return '';
    let out = '';
    let work = 0;
    if (!this.started) {
      this.started = true;
      out = '{"action":"get","node":';
      const opened = this.open(this.top, true);
      out += opened.text;
      work += opened.work;
    }
    const stack = this.stack;
    while (stack.length > 0) {
      if (work >= limits.maxWork || out.length >= limits.maxChars) return out;
      const frame = stack[stack.length - 1]!;
      if (frame.sorting !== undefined) {
        const budget = (limits.maxWork - work) * 16;
        const sorted = frame.sorting.step(budget);
        work += budget >> 4;
        if (sorted) {
          frame.children = frame.sorting.result;
          frame.sorting = undefined;
        }
        continue;
      }
      if (frame.next < frame.children.length) {
        const child = frame.children[frame.next++]!;
        out += frame.listed ? ',' : ',"nodes":[';
        frame.listed = true;
        const opened = this.open(child, false);
        out += opened.text;
        work += opened.work;
      } else {
        stack.pop();
        out += frame.listed ? ']' + frame.close : frame.close;
      }
    }
    this.finished = true;
    return out + '}\n';
  }

  /**
   * The text of a node up to its children: a file or an unexpanded dir whole, an expanded dir
   * open (its frame pushed, closed once its children are written).
   */
  private open(node: StoreNode, isTop: boolean): { text: string; work: number } {
    const state = this.source.state(node);
    if (!state.isDir) {
      const text = '{"key":' + goJsonString(state.path) + ',"value":' + goJsonString(state.value ?? '')
        + expirationFields(state, this.nowMs) + indexFields(state);
      // Escaping and copying a value costs about as much per KiB as a small node.
      return { text, work: 1 + ((state.value?.length ?? 0) >> 10) };
    }
    const isRoot = isTop && state.path === ROOT_PATH;
    const head = isRoot ? '{"dir":true' : '{"key":' + goJsonString(state.path) + ',"dir":true' + expirationFields(state, this.nowMs);
    const close = isRoot ? '}' : indexFields(state);
    if (!isTop && !this.options.recursive) return { text: head + close, work: 1 };
    const children = visibleChildren(node, false, this.source);
    let sorting: IncrementalSort<StoreNode> | undefined;
    if (this.options.sorted) {
      if (children.length > SORT_AT_ONCE) sorting = new IncrementalSort(children, byKey);
      else children.sort(byKey);
    }
    this.stack.push({ children, sorting, next: 0, listed: false, close });
    const sortWork = sorting === undefined && children.length > 1 && this.options.sorted ? children.length * Math.log2(children.length) : 0;
    return { text: head, work: 1 + ((children.length + sortWork) >> 4) };
  }
}

/**
 * A `get` answer too big to render at once: the text rendered so far, the renderer and the view it
 * reads, frozen at the store index the answer shows.
 */
export class BigListing {
  private head: string;

  constructor(first: string, private readonly renderer: ListingRenderer, private readonly view: TreeView) {
    this.head = first;
  }

  /** The store index the answer shows (`X-Etcd-Index`). */
  get index(): number {
    return this.view.index;
  }

  /** What the view keeps alive for this answer beyond the live tree (see `TreeView.keptSize`). */
  get keptSize(): number {
    return this.view.keptSize;
  }

  /** Whether the whole body has been rendered. */
  get done(): boolean {
    return this.head === '' && this.renderer.done;
  }

  /** The next part of the body ('' once done); closes the view after the last part. */
  render(limits: RenderStepLimits): string {
    let out = this.head;
    this.head = '';
    if (out === '' || out.length < limits.maxChars) out += this.renderer.render(limits);
    if (this.renderer.done) this.view.close();
    return out;
  }

  /** Drops the answer (the client went away): the tree stops feeding the view. Idempotent. */
  close(): void {
    this.head = '';
    this.view.close();
  }
}
