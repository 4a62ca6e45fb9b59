/**
 * The dashboard's shell: a sign-in form while auth is enabled and no credentials were given, then
 * four views chosen by the URL's hash (#/keys, #/live, #/cluster, #/metrics).
 */
import { useEffect, useState } from 'preact/hooks';
import { authEnabled, describeError, hasCredentials, request, setCredentials, ApiError, UNAUTHORIZED } from './api.js';
import { ClusterView } from './cluster-view.js';
import { KeysView } from './keys-view.js';
import { feed } from './live-feed.js';
import { LiveView } from './live-view.js';
import { MetricsView } from './metrics-view.js';

const VIEWS = [
  { id: 'keys', label: 'Keys' },
  { id: 'live', label: 'Live' },
  { id: 'cluster', label: 'Cluster' },
  { id: 'metrics', label: 'Metrics' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

function viewFromHash(): ViewId {
  const id = location.hash.replace(/^#\/?/, '');
  return (VIEWS.find((v) => v.id === id)?.id) ?? 'keys';
}

const WRONG_CREDENTIALS = 'The user name or password is wrong.';

/**
 * Asks for a user name and password and checks them with the member's sign-in check (Deimos's own:
 * etcd's statistics ignore credentials, and a read of `/` is refused to a user whose roles grant only
 * part of the keyspace, so neither could tell such a user from a wrong password).
 */
function SignIn({ onDone }: { onDone(): void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = async (): Promise<void> => {
    setCredentials(user, password);
    try {
      await request('GET', '/dashboard/api/signin');
      onDone();
    } catch (err) {
      if (err instanceof ApiError && err.errorCode === UNAUTHORIZED) {
        setError(WRONG_CREDENTIALS);
        return;
      }
      setError(describeError(err));
    }
  };
  return (
    <main class="signin">
      <h1>Deimos dashboard</h1>
      <p>Authentication is enabled on this cluster. Sign in with a Deimos user; the dashboard shows only what that user may see.</p>
      <form onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        <label for="user">User</label>
        <input id="user" autocomplete="username" value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
        <label for="password">Password</label>
        <input id="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary">Sign in</button>
      </form>
      {error !== undefined && (
        <>
          <p class="error" role="alert">{error}</p>
          {error !== WRONG_CREDENTIALS && <button type="button" onClick={onDone}>Continue</button>}
        </>
      )}
    </main>
  );
}

/** The app. */
export function App() {
  const [view, setView] = useState<ViewId>(viewFromHash());
  const [auth, setAuth] = useState<'checking' | 'needed' | 'ok'>('checking');
  const [authError, setAuthError] = useState<string | undefined>(undefined);

  useEffect(() => {
    const onHash = (): void => setView(viewFromHash());
    addEventListener('hashchange', onHash);
    authEnabled().then((on) => setAuth(on && !hasCredentials() ? 'needed' : 'ok'), (err: unknown) => { setAuthError(describeError(err)); setAuth('ok'); });
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    if (auth !== 'ok') return undefined;
    feed.start();
    return () => feed.stop();
  }, [auth]);

  if (auth === 'checking') return <main><p class="muted">loading…</p></main>;
  if (auth === 'needed') return <SignIn onDone={() => setAuth('ok')} />;
  return (
    <>
      <header class="top">
        <h1>Deimos</h1>
        <nav aria-label="views">
          <ul>
            {VIEWS.map((v) => (
              <li key={v.id}><a href={`#/${v.id}`} aria-current={view === v.id ? 'page' : undefined}>{v.label}</a></li>
            ))}
          </ul>
        </nav>
        {hasCredentials() && <button type="button" class="signout" onClick={() => { setCredentials(undefined); location.reload(); }}>Sign out</button>}
      </header>
      <main>
        {authError !== undefined && <p class="error">{authError}</p>}
        <h2 class="sr-only">{VIEWS.find((v) => v.id === view)!.label}</h2>
        {view === 'keys' && <KeysView />}
        {view === 'live' && <LiveView />}
        {view === 'cluster' && <ClusterView />}
        {view === 'metrics' && <MetricsView />}
      </main>
    </>
  );
}
