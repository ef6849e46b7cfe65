/**
 * AccessControl remembers tokens that checked out, so a client's every request does not hash
 * its token again; a revocation, a new admin token or a restored snapshot must still apply at
 * once. The test authenticates (filling the cache), changes the credentials through the state
 * machine as a committed command would, and authenticates again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secretHash } from '../../src/cluster/join-token.js';
import { AccessControl } from '../../src/server/access.js';
import { ClusterStateMachine, encodeCredentialCommand } from '../../src/state/index.js';

/** Applies a command at once, as if it had committed. */
function committer(state: ClusterStateMachine): (data: Uint8Array) => Promise<unknown> {
  let index = 0;
  return (data) => Promise.resolve(state.apply({ type: 'normal', index: ++index, term: 1, data }));
}

test('a remembered API token is refused as soon as it is revoked', async () => {
  const state = new ClusterStateMachine();
  const access = new AccessControl({ state, propose: committer(state), now: () => 1_000 });
  const { token, view } = await access.createToken('read', 'app/');
  assert.deepEqual(access.authenticate(token), { ok: true, principal: { role: 'read', prefix: 'app/', name: view.id } });
  assert.equal(access.authenticate(token).ok, true);
  await access.revoke(view.id);
  assert.equal(access.authenticate(token).ok, false);
});

test('a remembered admin token is refused once another admin token is set, and after a restore without it', async () => {
  const state = new ClusterStateMachine();
  const commit = committer(state);
  const access = new AccessControl({ state, propose: commit, now: () => 1_000 });
  const setAdmin = (token: string): Promise<unknown> => commit(encodeCredentialCommand({ op: 'adminTokenSet', secretHash: secretHash(token) }));
  const before = state.snapshot();
  await setAdmin('admin-token-one-0123456789');
  assert.equal(access.authenticate('admin-token-one-0123456789').ok, true);
  await setAdmin('admin-token-two-0123456789');
  assert.equal(access.authenticate('admin-token-one-0123456789').ok, false);
  assert.equal(access.authenticate('admin-token-two-0123456789').ok, true);
  state.restore(before);
  assert.equal(access.authenticate('admin-token-two-0123456789').ok, false);
});

test('a node without the cluster state (joining) says it cannot check tokens yet, not that they are wrong', () => {
  const state = new ClusterStateMachine();
  const access = new AccessControl({ state, propose: committer(state), now: () => 1_000 });
  const joining = access.authenticate('any-token-0123456789');
  assert.deepEqual(joining.ok ? null : joining.caughtUp, false);
  state.members.replace([{ id: 'n1', peerAddress: '127.0.0.1:8081', apiAddress: '127.0.0.1:8080' }]);
  const member = access.authenticate('any-token-0123456789');
  assert.deepEqual(member.ok ? null : { caughtUp: member.caughtUp, message: member.message }, { caughtUp: true, message: 'the token is not valid for this cluster (a mistyped token, a token of another cluster, or one that was never created)' });
});
