/**
 * The keyspace as a tree: a directory lists its children when expanded (one level per request),
 * at most {@link PAGE_SIZE} at a time with a button for the next page, and reloads itself when the
 * live feed reports a change among them.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError, getKey, type NodeJSON } from './api.js';
import { feed, parentOf } from './live-feed.js';

/** Children shown per page of a large directory. */
export const PAGE_SIZE = 100;

function baseName(key: string): string {
  return key === '/' ? '/' : key.slice(key.lastIndexOf('/') + 1);
}

interface DirProps {
  path: string;
  selected: string | undefined;
  onSelect(path: string): void;
  /** Expanded from the start (the root). */
  open?: boolean;
}

/** One directory of the tree with its (lazily loaded) children. */
export function TreeDir({ path, selected, onSelect, open = false }: DirProps) {
  const [expanded, setExpanded] = useState(open);
  const [children, setChildren] = useState<NodeJSON[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [shown, setShown] = useState(PAGE_SIZE);

  // Only the last listing asked may show its answer (reads finish in any order: an older one
  // answering last would show a listing from before the latest change until the next one).
  const lastLoad = useRef(0);
  const load = useCallback(async () => {
    const mine = ++lastLoad.current;
    try {
      const { body } = await getKey(path);
      if (mine !== lastLoad.current) return;
      setChildren(body.node?.nodes ?? []);
      setError(undefined);
    } catch (err) {
      if (mine !== lastLoad.current) return;
      setError(describeError(err));
    }
  }, [path]);

  useEffect(() => {
    if (!expanded) return undefined;
    void load();
    // Bursts of changes reload once; only changes that can alter this listing count.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = feed.subscribe((event) => {
      const key = event.node?.key;
      if (key === undefined || timer !== undefined) return;
      const under = path === '/' || key.startsWith(`${path}/`);
      const structural = event.action !== 'update' && event.action !== 'compareAndSwap' && !(event.action === 'set' && event.prevNode !== undefined);
      if (parentOf(key) === path || (under && structural)) {
        timer = setTimeout(() => { timer = undefined; void load(); }, 100);
      }
    });
    return () => { unsubscribe(); clearTimeout(timer); };
  }, [expanded, load, path]);

  const list = children ?? [];
  return (
    <li class="tree-dir">
      {path !== '/' && (
        <button type="button" class={`tree-item${selected === path ? ' selected' : ''}`} aria-expanded={expanded}
          onClick={() => { setExpanded(!expanded); onSelect(path); }}>
          <span aria-hidden="true">{expanded ? '▾ ' : '▸ '}</span>{baseName(path)}/
        </button>
      )}
      {expanded && (
        <ul class="tree-children" aria-label={`contents of ${path}`}>
          {error !== undefined && <li class="error">{error}</li>}
          {children === undefined && error === undefined && <li class="muted">loading…</li>}
          {children !== undefined && list.length === 0 && <li class="muted">(empty)</li>}
          {list.slice(0, shown).map((n) => n.dir
            ? <TreeDir key={n.key} path={n.key!} selected={selected} onSelect={onSelect} />
            : (
              <li key={n.key}>
                <button type="button" class={`tree-item leaf${selected === n.key ? ' selected' : ''}`} onClick={() => onSelect(n.key!)}>
                  {baseName(n.key!)}{n.ttl !== undefined && <span class="muted"> ⏱</span>}
                </button>
              </li>
            ))}
          {list.length > shown && (
            <li>
              <button type="button" class="more" onClick={() => setShown(shown + PAGE_SIZE)}>
                Show {Math.min(PAGE_SIZE, list.length - shown)} more of {list.length - shown} remaining
              </button>
            </li>
          )}
        </ul>
      )}
    </li>
  );
}
