/**
 * The Keys view: the tree on the left, the open key on the right, and forms to open any path
 * (hidden `_` keys included: listings leave them out), create a key or make a directory.
 */
import { useState } from 'preact/hooks';
import { describeError, putKey } from './api.js';
import { KeyDetail } from './key-detail.js';
import { TreeDir } from './key-tree.js';

/** A typed path with a leading `/`: spaces are kept (`/a ` and `/ b` are keys), pasted line breaks are not. */
function normalize(path: string): string {
  const p = path.replace(/^[\r\n]+|[\r\n]+$/g, '');
  return p.startsWith('/') ? p : `/${p}`;
}

/** The Keys view. */
export function KeysView() {
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [openPath, setOpenPath] = useState('');
  const [newPath, setNewPath] = useState('');
  const [newValue, setNewValue] = useState('');
  const [newTtl, setNewTtl] = useState('');
  const [status, setStatus] = useState('');

  const create = async (dir: boolean): Promise<void> => {
    const path = normalize(newPath);
    if (path === '/') return setStatus('Give the new key a path.');
    const form: Record<string, string> = { prevExist: 'false' };
    if (dir) form.dir = 'true';
    else form.value = newValue;
    if (newTtl.trim() !== '') form.ttl = newTtl.trim();
    try {
      const { body } = await putKey(path, form);
      setStatus(`Created ${dir ? 'directory ' : ''}${body.node?.key ?? path} at index ${body.node?.modifiedIndex ?? '?'}.`);
      setSelected(path);
    } catch (err) {
      setStatus(`Not created: ${describeError(err)}`);
    }
  };

  return (
    <div class="keys-view">
      <section class="forms" aria-label="open or create">
        <form class="row" onSubmit={(e) => { e.preventDefault(); if (openPath.trim() !== '') setSelected(normalize(openPath)); }}>
          <label for="open-path">Open path</label>
          <input id="open-path" value={openPath} placeholder="/config/_hidden" onInput={(e) => setOpenPath((e.target as HTMLInputElement).value)} />
          <button type="submit">Open</button>
        </form>
        <form class="row" onSubmit={(e) => { e.preventDefault(); void create(false); }}>
          <label for="new-path">New key path</label>
          <input id="new-path" value={newPath} placeholder="/app/setting" onInput={(e) => setNewPath((e.target as HTMLInputElement).value)} />
          <label for="new-value">Value</label>
          <input id="new-value" value={newValue} onInput={(e) => setNewValue((e.target as HTMLInputElement).value)} />
          <label for="new-ttl">TTL (s)</label>
          <input id="new-ttl" class="narrow" inputMode="numeric" value={newTtl} onInput={(e) => setNewTtl((e.target as HTMLInputElement).value)} />
          <button type="submit" class="primary">Create key</button>
          <button type="button" onClick={() => void create(true)}>Make directory</button>
        </form>
        <p class="status" role="status" data-testid="keys-status">{status}</p>
      </section>
      <div class="split">
        <nav class="tree" aria-label="keyspace">
          <ul class="tree-root">
            <TreeDir path="/" open selected={selected} onSelect={setSelected} />
          </ul>
        </nav>
        {selected !== undefined
          ? <KeyDetail path={selected} onDeleted={(p) => { setStatus(`Deleted ${p}.`); setSelected(undefined); }} />
          : <section class="detail" aria-label="key"><p class="muted">Pick a key in the tree, or open one by path.</p></section>}
      </div>
    </div>
  );
}
