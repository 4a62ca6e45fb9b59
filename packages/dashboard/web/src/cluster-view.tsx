/**
 * The Cluster view: every member with its URLs, role, health, term, commit, applied and store index, lag
 * behind the leader and follower latency, refreshed every second from `/dashboard/api/cluster`
 * (the serving member asks the others, so a member that is down shows as down at the next poll).
 */
import { useEffect, useState } from 'preact/hooks';
import { clusterStatus, describeError, type ClusterStatus } from './api.js';

/** Milliseconds between polls. */
const POLL_MS = 1000;

/** The Cluster view. */
export function ClusterView() {
  const [status, setStatus] = useState<ClusterStatus | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      try {
        const s = await clusterStatus();
        if (stopped) return;
        setStatus(s);
        setError(undefined);
      } catch (err) {
        if (!stopped) setError(describeError(err));
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => { stopped = true; clearTimeout(timer); };
  }, []);

  const leader = status?.members.find((m) => m.id === status.leaderId);
  return (
    <section class="cluster" aria-label="cluster">
      {error !== undefined && <p class="error" role="alert">Cannot read the cluster state: {error}</p>}
      {status === undefined && error === undefined && <p class="muted">loading…</p>}
      {status !== undefined && (
        <>
          <p>Leader: <strong data-testid="leader">{leader ? `${leader.name} (${leader.id})` : 'none known'}</strong>. Served by {status.servedBy}.</p>
          <table class="members" data-testid="members">
            <caption class="sr-only">Members</caption>
            <thead>
              <tr>
                <th scope="col">Health</th><th scope="col">Name</th><th scope="col">ID</th><th scope="col">Role</th>
                <th scope="col">Term</th><th scope="col">Commit index</th><th scope="col">Applied index</th><th scope="col">Store index</th><th scope="col">Lag</th>
                <th scope="col">Latency (ms, now / avg)</th><th scope="col">Client URLs</th><th scope="col">Peer URLs</th>
              </tr>
            </thead>
            <tbody>
              {status.members.map((m) => (
                <tr key={m.id} data-member={m.name} data-health={m.up ? 'up' : 'down'}>
                  <td><span class={`health ${m.up ? 'up' : 'down'}`}><span aria-hidden="true">● </span>{m.up ? 'up' : 'down'}</span>
                    {m.error !== undefined && <div class="muted small">{m.error}</div>}</td>
                  <td>{m.name}</td>
                  <td><code>{m.id}</code></td>
                  <td>{m.up ? (m.isLeader ? 'leader' : 'follower') : '—'}</td>
                  <td>{m.term ?? '—'}</td>
                  <td>{m.commitIndex ?? '—'}</td>
                  <td>{m.appliedIndex ?? '—'}</td>
                  <td>{m.storeIndex ?? '—'}</td>
                  <td>{leader?.appliedIndex !== undefined && m.appliedIndex !== undefined ? Math.max(0, leader.appliedIndex - m.appliedIndex) : '—'}</td>
                  <td>{m.latency ? `${m.latency.current.toFixed(2)} / ${m.latency.average.toFixed(2)}` : '—'}</td>
                  <td>{m.clientURLs.join(', ')}</td>
                  <td>{m.peerURLs.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
