/**
 * One key or directory: its value (text, or JSON pretty-printed), indexes, TTL counting down and
 * recent history; edit with compare-and-swap on the index shown (a concurrent change is reported
 * as a conflict, never overwritten), delete (compare-and-delete for keys), and live updates.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, describeError, deleteKey, getKey, KEY_NOT_FOUND, putKey, TEST_FAILED, type EventJSON, type NodeJSON } from './api.js';
import { feed } from './live-feed.js';
import { keyHistory } from './key-history.js';
import { shortValue } from './short-value.js';
import { watchLoop, watchPrefix } from './watch-loop.js';

/** The value as pretty JSON when it parses as an object or array, else undefined. */
export function prettyJson(value: string): string | undefined {
  const t = value.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return undefined;
  }
}

function secondsLeft(expiration: string | undefined, now: number): number | undefined {
  if (expiration === undefined) return undefined;
  return Math.max(0, Math.ceil((Date.parse(expiration) - now) / 1000));
}

/** The countdown of a key's TTL, ticking every second. */
function TtlCountdown({ expiration }: { expiration: string | undefined }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (expiration === undefined) return undefined;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [expiration]);
  const left = secondsLeft(expiration, now);
  if (left === undefined) return <span class="muted">none</span>;
  return <span class="ttl">{left} s (expires {expiration})</span>;
}

interface Conflict {
  base: number;
  current?: NodeJSON;
  text: string;
}

/** The open key. */
export function KeyDetail({ path, onDeleted }: { path: string; onDeleted(path: string): void }) {
  const [node, setNode] = useState<NodeJSON | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [editing, setEditing] = useState<{ base: number; text: string } | undefined>(undefined);
  const [conflict, setConflict] = useState<Conflict | undefined>(undefined);
  const [status, setStatus] = useState<string>('');
  const [asJson, setAsJson] = useState(true);
  /** While a delete waits for confirmation: the modified index shown when Delete was pressed. */
  const [confirmDelete, setConfirmDelete] = useState<number | undefined>(undefined);
  const [feedRefused, setFeedRefused] = useState(feed.refused);
  const [history, setHistory] = useState<EventJSON[] | undefined>(undefined);
  const [historyError, setHistoryError] = useState<string | undefined>(undefined);

  // Reads finish in any order: only the last one asked may show its answer. Otherwise the read of a
  // key left a moment ago (a big directory, or one of the reads its changes set off) could answer
  // after the key now open, and show the old key under the new one's name.
  const lastLoad = useRef(0);
  const load = async (): Promise<void> => {
    const mine = ++lastLoad.current;
    try {
      const { body } = await getKey(path);
      if (mine !== lastLoad.current) return;
      setNode(body.node);
      setError(undefined);
    } catch (err) {
      if (mine !== lastLoad.current) return;
      setNode(undefined);
      setError(err instanceof ApiError && err.errorCode === KEY_NOT_FOUND ? `${path} does not exist (now).` : describeError(err));
    }
  };

  useEffect(() => {
    setNode(undefined);
    setEditing(undefined);
    setConflict(undefined);
    setStatus('');
    setConfirmDelete(undefined);
    setHistory(undefined);
    void load();
    const onEvent = (event: EventJSON): void => {
      const key = event.node?.key;
      if (key === undefined) return;
      if (key === path || path.startsWith(`${key}/`) || key.startsWith(`${path}/`)) {
        void load();
        setHistory((h) => (h === undefined || key !== path ? h : [...h, event].slice(-20)));
      }
    };
    if (!feedRefused) return feed.subscribe(onEvent);
    // The page's watch on the whole keyspace was refused (the user may read only parts of it): this
    // key's own watch keeps it current instead (refused too if the user may not watch it).
    const controller = new AbortController();
    void watchLoop(watchPrefix(path), controller.signal, { onEvent });
    return () => controller.abort();
  }, [path, feedRefused]);

  useEffect(() => feed.onRefused(() => setFeedRefused(true)), []);

  const modifiedIndex = node?.modifiedIndex;
  useEffect(() => {
    if (modifiedIndex === undefined || node?.dir || history !== undefined) return undefined;
    const controller = new AbortController();
    keyHistory(path, modifiedIndex, controller.signal)
      .then((events) => { setHistory(events); setHistoryError(undefined); })
      .catch((err: unknown) => { if (!controller.signal.aborted) setHistoryError(describeError(err)); });
    return () => controller.abort();
  }, [path, modifiedIndex === undefined]);

  const save = async (): Promise<void> => {
    if (editing === undefined) return;
    try {
      const form: Record<string, string> = { value: editing.text, prevIndex: String(editing.base) };
      // Keep the key's remaining TTL: a plain set would drop it.
      const left = secondsLeft(node?.expiration, Date.now());
      if (left !== undefined && left > 0) form.ttl = String(left);
      const { body } = await putKey(path, form);
      setNode(body.node);
      setEditing(undefined);
      setConflict(undefined);
      setStatus(`Saved at index ${body.node?.modifiedIndex ?? '?'}.`);
    } catch (err) {
      if (err instanceof ApiError && err.errorCode === TEST_FAILED) {
        let current: NodeJSON | undefined;
        try {
          current = (await getKey(path)).body.node;
        } catch {
          current = undefined;
        }
        setConflict({ base: editing.base, current, text: editing.text });
        setStatus('');
        return;
      }
      setStatus(`Save failed: ${describeError(err)}`);
    }
  };

  const remove = async (): Promise<void> => {
    try {
      // The index shown when Delete was pressed, not the one shown now: a change that came in
      // while the confirmation waited is a conflict, not a value deleted unseen.
      if (node?.dir) await deleteKey(path, { dir: true, recursive: true });
      else await deleteKey(path, { prevIndex: confirmDelete ?? node?.modifiedIndex });
      setConfirmDelete(undefined);
      onDeleted(path);
    } catch (err) {
      setConfirmDelete(undefined);
      setStatus(err instanceof ApiError && err.errorCode === TEST_FAILED
        ? 'Not deleted: the key changed since it was shown (conflict). Look at the new value first.'
        : `Delete failed: ${describeError(err)}`);
    }
  };

  if (error !== undefined) return <section class="detail" aria-label="key"><h2>{path}</h2><p class="error" role="alert">{error}</p></section>;
  if (node === undefined) return <section class="detail" aria-label="key"><h2>{path}</h2><p class="muted">loading…</p></section>;
  const pretty = node.dir ? undefined : prettyJson(node.value ?? '');
  return (
    <section class="detail" aria-label="key">
      <h2 data-testid="detail-key">{node.key ?? path}{node.dir ? '/' : ''}</h2>
      <dl class="facts">
        <dt>Type</dt><dd>{node.dir ? 'directory' : 'key'}</dd>
        <dt>Created index</dt><dd data-testid="created-index">{node.createdIndex}</dd>
        <dt>Modified index</dt><dd data-testid="modified-index">{node.modifiedIndex}</dd>
        <dt>TTL</dt><dd><TtlCountdown expiration={node.expiration} /></dd>
        {node.dir && <><dt>Children</dt><dd>{node.nodes?.length ?? 0}</dd></>}
      </dl>
      {!node.dir && editing === undefined && (
        <>
          <div class="row">
            <h3>Value</h3>
            {pretty !== undefined && (
              <label class="inline"><input type="checkbox" checked={asJson} onChange={(e) => setAsJson((e.target as HTMLInputElement).checked)} /> pretty JSON</label>
            )}
          </div>
          <pre class="value" data-testid="value">{pretty !== undefined && asJson ? pretty : node.value}</pre>
        </>
      )}
      {editing !== undefined && (
        <div class="edit">
          <label for="edit-value">New value (saved only if the key is still at index {editing.base})</label>
          <textarea id="edit-value" rows={8} value={editing.text} onInput={(e) => setEditing({ ...editing, text: (e.target as HTMLTextAreaElement).value })} />
        </div>
      )}
      {conflict !== undefined && (
        <div class="conflict" role="alert" data-testid="conflict">
          <strong>Conflict: not saved.</strong> The key changed after you opened it (your edit was based on index {conflict.base};
          it is now {conflict.current ? `at index ${conflict.current.modifiedIndex} with value “${shortValue(conflict.current.value)}”` : 'gone'}).
          {conflict.current
            ? ' Your text is kept below: “Rebase my edit on the new value” makes the new value the base, and Save then replaces it; Cancel keeps it.'
            : ' Your text is kept below; Cancel leaves the key as it is now.'}
        </div>
      )}
      <div class="actions">
        {!node.dir && editing === undefined && (
          <button type="button" onClick={() => { setEditing({ base: node.modifiedIndex ?? 0, text: node.value ?? '' }); setConflict(undefined); setStatus(''); }}>Edit</button>
        )}
        {editing !== undefined && <button type="button" class="primary" onClick={() => void save()}>Save</button>}
        {editing !== undefined && <button type="button" onClick={() => { setEditing(undefined); setConflict(undefined); }}>Cancel</button>}
        {conflict !== undefined && editing !== undefined && conflict.current !== undefined && (
          <button type="button" onClick={() => { setEditing({ base: conflict.current!.modifiedIndex ?? 0, text: conflict.text }); setConflict(undefined); }}>Rebase my edit on the new value</button>
        )}
        {confirmDelete === undefined && <button type="button" class="danger" onClick={() => setConfirmDelete(node.modifiedIndex ?? 0)}>Delete</button>}
        {confirmDelete !== undefined && (
          <>
            <button type="button" class="danger" onClick={() => void remove()}>Confirm delete{node.dir ? ' (recursive)' : ''}</button>
            <button type="button" onClick={() => setConfirmDelete(undefined)}>Keep it</button>
          </>
        )}
      </div>
      <p class="status" role="status">{status}</p>
      {!node.dir && (
        <>
          <h3>Recent history</h3>
          {historyError !== undefined && <p class="error">{historyError}</p>}
          {history === undefined && historyError === undefined && <p class="muted">loading…</p>}
          {history !== undefined && (
            <ol class="history" data-testid="history">
              {history.map((e, i) => (
                <li key={`${e.node?.modifiedIndex}-${i}`}>
                  <span class="idx">#{e.node?.modifiedIndex}</span> <span class="action">{e.action}</span>
                  {e.node?.value !== undefined && <> → <code>{shortValue(e.node.value)}</code></>}
                  {e.prevNode?.value !== undefined && <span class="muted"> (was <code>{shortValue(e.prevNode.value)}</code>)</span>}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}
