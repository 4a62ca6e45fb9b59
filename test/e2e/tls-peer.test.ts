/**
 * Peer TLS between real `deimos` processes, certificates from `deimosctl cert`: a three-member
 * cluster with peer TLS, peer client-certificate auth and an allowed CN elects a leader, replicates
 * and converges; a member presenting a peer certificate from another CA, or one whose CN is not
 * allowed, cannot join and the cluster is unaffected; SIGHUP reloads peer certificates without
 * dropping the cluster.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { DeimosCluster, CLUSTER_DEFAULT_ARGS, membershipChange, runConcurrently } from '../support/deimos-cluster.js';
import { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { freePorts } from '../support/ports.js';
import { fingerprintOf, presentedFingerprint, TestCerts, type CertPair } from '../support/tls-certs.js';
import { waitFor } from '../support/wait-for.js';

const PEER_CN = 'deimos-peer';
/**
 * The leader keeps 5,000 entries behind its latest snapshot for lagging followers; with a snapshot
 * every SNAPSHOT_COUNT entries, 5,000 + 2 × SNAPSHOT_COUNT writes guarantee that the log no longer
 * starts at index 1, so a new member can only catch up through a snapshot.
 */
const SNAPSHOT_COUNT = 100;
const SNAPSHOT_WRITES = 5_000 + 2 * SNAPSHOT_COUNT;

function peerFlags(certs: TestCerts, pair: CertPair): string[] {
  return ['--peer-cert-file', pair.cert, '--peer-key-file', pair.key, '--peer-trusted-ca-file', certs.path('ca.pem'),
    '--peer-client-cert-auth', '--peer-cert-allowed-cn', PEER_CN];
}

describe('peer TLS with peer client-certificate auth (and client TLS)', () => {
  let certs: TestCerts;
  let cluster: DeimosCluster;
  let strangerPeer: CertPair;
  let wrongCnPeer: CertPair;
  let elsewherePeer: CertPair;

  before(async () => {
    certs = await TestCerts.create();
    // Independent deimosctl runs at once: most of their time is process start-up.
    const [, server, client, wrongCn, elsewhere] = await Promise.all([
      certs.issue('peer', 'peer', { cn: PEER_CN }),
      certs.issue('server', 'server'),
      certs.issue('client', 'client'),
      certs.issue('peer', 'intruder', { cn: 'intruder' }),
      certs.issue('peer', 'elsewhere', { cn: PEER_CN, ip: '10.9.9.9', dns: 'wrong.invalid' }),
      certs.ca('other'),
    ]);
    wrongCnPeer = wrongCn;
    elsewherePeer = elsewhere;
    strangerPeer = await certs.issue('peer', 'stranger', { caName: 'other', cn: PEER_CN });
    // The members read their certificate through a path that the reload test rewrites.
    copyFileSync(certs.path('peer.pem'), certs.path('live.pem'));
    copyFileSync(certs.path('peer-key.pem'), certs.path('live-key.pem'));
    const live = { cert: certs.path('live.pem'), key: certs.path('live-key.pem') };
    // TLS everywhere: the client ports too, with client-certificate auth.
    const clientFlags = ['--cert-file', server.cert, '--key-file', server.key, '--trusted-ca-file', certs.path('ca.pem'), '--client-cert-auth'];
    cluster = await DeimosCluster.start({
      peerScheme: 'https', clientScheme: 'https', clientTls: certs.credentials(client),
      // The streams are dialled and written on the peer socket thread (a TLS context of its own,
      // rebuilt from the files at every dial): proxy-tls-cluster and tls-startup cover the other way.
      args: [...CLUSTER_DEFAULT_ARGS, '--snapshot-count', String(SNAPSHOT_COUNT), '--peer-thread', 'on', ...clientFlags, ...peerFlags(certs, live)],
    });
  });
  after(async () => {
    await cluster?.destroy();
    certs?.destroy();
  });

  test('the cluster elects a leader over https peer URLs, replicates and converges', async () => {
    const leader = await cluster.leader();
    const followers = cluster.followers(leader);
    assert.equal(followers.length, 2);
    const members = await http('GET', `${leader.clientUrl}/v2/members`, { tls: leader.clientTls });
    assert.ok((members.json.members as Array<{ peerURLs: string[] }>).every((m) => m.peerURLs.every((u) => u.startsWith('https://'))), members.body);
    for (let i = 0; i < 20; i++) {
      const via = cluster.members[i % 3]!;
      const put = await http('PUT', `${via.clientUrl}/v2/keys/tls/k${i}`, { form: { value: `v${i}` }, tls: via.clientTls });
      assert.equal(put.status, 201, put.body);
    }
    const hash = await cluster.waitConverged();
    assert.ok(hash.storeIndex >= 20);
    for (const f of followers) {
      const get = await http('GET', `${f.clientUrl}/v2/keys/tls/k19?consistent=false`, { tls: f.clientTls });
      assert.equal(get.json?.node?.value, 'v19', `${f.name}: ${get.body}`);
    }
    // Round trips are probed over https with the peer certificate, by followers too.
    const follower = followers[0]!;
    const leaderId = (await http('GET', `${follower.clientUrl}/v2/stats/self`, { tls: follower.clientTls })).json.leaderInfo.leader as string;
    await waitFor(async () => new RegExp(`^etcd_network_peer_round_trip_time_seconds_count\\{To="${leaderId}"\\} [1-9]`, 'm')
      .test((await http('GET', `${follower.clientUrl}/metrics`, { tls: follower.clientTls })).body), { timeoutMs: 20_000, what: 'a probed round trip to the leader' });
  });

  /**
   * Adds a member for `pair` through the members API, starts it with `--initial-cluster-state
   * existing`, and checks that the cluster refuses its connections while it serves writes as before.
   */
  async function refusedJoin(pair: CertPair, reason: RegExp): Promise<void> {
    const via = await cluster.leader();
    const [clientPort, peerPort] = await freePorts(2);
    const peerUrl = `https://127.0.0.1:${peerPort}`;
    const added = await membershipChange(() => http('POST', `${via.clientUrl}/v2/members`, { body: JSON.stringify({ peerURLs: [peerUrl] }), headers: { 'Content-Type': 'application/json' }, tls: via.clientTls }));
    assert.equal(added.status, 201, added.body);
    const existing = cluster.members.map((m) => `${m.name}=${m.peerUrl}`);
    const outputBefore = new Map(cluster.members.map((m) => [m, m.output.length]));
    const joiner = await DeimosProcess.start({
      name: 'joiner', clientPort, peerPort, peerScheme: 'https', waitReady: false, bootstrapConfig: [...existing, `joiner=${peerUrl}`].join(','),
      args: [...CLUSTER_DEFAULT_ARGS, ...peerFlags(certs, pair), '--initial-cluster-state', 'existing'],
    });
    try {
      const rejected = () => cluster.members.some((m) => reason.test(m.output.slice(outputBefore.get(m))));
      await waitFor(rejected, { timeoutMs: 15_000, what: `a member to log the rejected connection (${reason})` });
      // It never got the member list, so it never started serving.
      const probe = await http('GET', `http://127.0.0.1:${clientPort}/v2/keys/`, { timeoutMs: 2_000 }).then(() => 'answered', (err: Error) => err.message);
      assert.match(probe, /ECONNREFUSED/);
      const put = await http('PUT', `${via.clientUrl}/v2/keys/tls/after-${peerPort}`, { form: { value: 'still-fine' }, tls: via.clientTls });
      assert.equal(put.status, 201, put.body);
      const listed = await http('GET', `${via.clientUrl}/v2/members`, { tls: via.clientTls });
      const joinerEntry = (listed.json.members as Array<{ id: string; name: string }>).find((m) => m.id === added.json.id);
      assert.equal(joinerEntry?.name, '', 'the refused member never published its name');
    } finally {
      await joiner.destroy();
      const removed = await http('DELETE', `${via.clientUrl}/v2/members/${added.json.id}`, { tls: via.clientTls });
      assert.equal(removed.status, 204, removed.body);
    }
    await cluster.waitConverged();
  }

  test('a member presenting a peer certificate from another CA cannot join', async () => {
    await refusedJoin(strangerPeer, /rejected peer connection remote=\S*127\.0\.0\.1 error=certificate not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });

  test('a member whose peer certificate names other addresses cannot join (etcd\'s SAN check)', async () => {
    await refusedJoin(elsewherePeer, /rejected peer connection remote=\S*127\.0\.0\.1 error=certificate does not match the connection: 127\.0\.0\.1 is not among the certificate's addresses \(10\.9\.9\.9, wrong\.invalid\)/);
  });

  test('a member whose peer certificate CN is not allowed cannot join', async () => {
    await refusedJoin(wrongCnPeer, /rejected peer connection .*certificate CN "intruder" is not the allowed "deimos-peer"/);
  });

  test('a member with a good certificate joins over TLS and catches up through a snapshot transfer', async () => {
    const leader = await cluster.leader();
    await runConcurrently(SNAPSHOT_WRITES, 16, async (i) => {
      const res = await http('PUT', `${leader.clientUrl}/v2/keys/bulk/k${i}`, { form: { value: `v${i}` }, timeoutMs: 30_000, tls: leader.clientTls });
      assert.ok(res.status === 201 || res.status === 200, res.body);
    });
    const { member } = await cluster.addMember('node4', { via: leader });
    await cluster.waitConverged({ timeoutMs: 60_000 });
    await waitFor(() => /sent snapshot/.test(leader.output), { timeoutMs: 10_000, what: 'the leader to log the snapshot it sent' });
    const get = await http('GET', `${member.clientUrl}/v2/keys/bulk/k0?consistent=false`, { tls: member.clientTls });
    assert.equal(get.json?.node?.value, 'v0', get.body);
    await cluster.removeMember(member);
  });

  test('SIGHUP reloads the peer certificates and the cluster keeps replicating', async () => {
    const renewed = await certs.issue('peer', 'renewed', { cn: PEER_CN });
    copyFileSync(renewed.cert, certs.path('live.pem'));
    copyFileSync(renewed.key, certs.path('live-key.pem'));
    for (const m of cluster.running()) process.kill(m.pid!, 'SIGHUP');
    await waitFor(() => cluster.running().every((m) => /reloaded peer TLS certificate/.test(m.output)), { timeoutMs: 10_000, what: 'every member to reload' });
    const asPeer = certs.credentials(renewed);
    for (const m of cluster.running()) assert.equal(await presentedFingerprint(m.peerUrl, asPeer), fingerprintOf(renewed.cert), m.name);
    const leader = await cluster.leader();
    // New connections use the renewed certificate: restart one follower, which must reconnect.
    const follower = cluster.followers(leader)[0]!;
    await cluster.restart(follower);
    assert.match(follower.output, /\]: stopped\n/, 'the follower stopped cleanly on SIGTERM with peer TLS connections open');
    const put = await http('PUT', `${leader.clientUrl}/v2/keys/tls/reloaded`, { form: { value: 'yes' }, tls: leader.clientTls });
    assert.equal(put.status, 201, put.body);
    await cluster.waitConverged();
    assert.equal(cluster.running().length, 3);
  });
});
