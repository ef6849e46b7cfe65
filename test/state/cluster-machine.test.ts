/**
 * The node's replicated state (KV + member registry behind one StateMachine): commands are
 * routed by their tag byte, a removal from the Raft configuration drops the member's
 * addresses, an unknown tag or malformed member command is a typed failure (never a throw in
 * apply), and a snapshot restores both parts into a fresh machine with identical bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterStateMachine, encodeCredentialCommand, encodeKvCommand, encodeMemberCommand } from '../../src/state/index.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

test('commands reach the KV or the registry by tag; removal drops the member', () => {
  const machine = new ClusterStateMachine();
  let index = 1;
  const apply = (data: Uint8Array) => machine.apply({ type: 'normal', index: ++index, term: 1, data });
  assert.deepEqual(apply(encodeMemberCommand({ op: 'memberSet', id: 'n2', peerAddress: '127.0.0.2:8081', apiAddress: '127.0.0.2:8080' })), { ok: true, kind: 'memberSet' });
  const put = apply(encodeKvCommand({ op: 'put', key: bytes('a'), value: bytes('1') }));
  assert.equal(put.ok && put.kind, 'put');
  assert.equal(machine.kv.range(bytes('a')).ok, true);
  assert.equal(machine.members.get('n2')?.peerAddress, '127.0.0.2:8081');
  const bad = apply(new Uint8Array([9, 1, 2]));
  assert.equal(bad.ok, false);
  const badMember = apply(new Uint8Array([2, ...bytes('{"op":"memberSet"}')]));
  assert.equal(!badMember.ok && badMember.code, 'bad_command');
  const badAddress = apply(encodeMemberCommand({ op: 'memberSet', id: 'n3', peerAddress: 'no port', apiAddress: 'x:1' }));
  assert.equal(!badAddress.ok && badAddress.code, 'invalid_argument');
  machine.apply({ type: 'conf', index: ++index, term: 1, change: { type: 'remove', nodeId: 'n2' } });
  assert.equal(machine.members.get('n2'), undefined);
});

test('a snapshot restores KV and registry into a fresh machine, byte for byte', () => {
  const machine = new ClusterStateMachine();
  machine.apply({ type: 'normal', index: 2, term: 1, data: encodeMemberCommand({ op: 'memberSet', id: 'n1', peerAddress: '127.0.0.1:8081', apiAddress: '127.0.0.1:8080' }) });
  machine.apply({ type: 'normal', index: 3, term: 1, data: encodeKvCommand({ op: 'put', key: bytes('k'), value: bytes('v') }) });
  const data = machine.snapshot();
  const copy = new ClusterStateMachine();
  copy.restore(data);
  assert.deepEqual(copy.members.list(), machine.members.list());
  assert.equal(copy.kv.revision, machine.kv.revision);
  assert.deepEqual(copy.snapshot(), data);
});

test('credentials: the admin hash and join tokens apply through the log, survive a snapshot, and old ended tokens are dropped', () => {
  const machine = new ClusterStateMachine();
  let index = 1;
  const apply = (command: Parameters<typeof encodeCredentialCommand>[0]) => machine.apply({ type: 'normal', index: ++index, term: 1, data: encodeCredentialCommand(command) });
  const hash = 'ab'.repeat(32);
  const day = 24 * 60 * 60 * 1000;
  assert.deepEqual(apply({ op: 'adminTokenSet', secretHash: hash }), { ok: true, kind: 'adminTokenSet' });
  const token = (id: string, createdAtMs: number) => ({ id, role: 'server' as const, secretHash: hash, createdAtMs, expiresAtMs: createdAtMs + 3_600_000, revokedAtMs: null });
  assert.equal(apply({ op: 'tokenCreate', token: token('0000000000000001', 1_000) }).ok, true);
  assert.equal(apply({ op: 'tokenRevoke', id: '0000000000000001', atMs: 2_000 }).ok, true);
  assert.equal(machine.credentials.token('0000000000000001')?.revokedAtMs, 2_000);
  const bad = apply({ op: 'tokenCreate', token: { ...token('zz', 3_000) } });
  assert.equal(!bad.ok && bad.code, 'invalid_argument');
  machine.apply({ type: 'normal', index: ++index, term: 1, data: encodeMemberCommand({ op: 'memberSet', id: 'n2', peerAddress: '127.0.0.2:8081', apiAddress: '127.0.0.2:8080', promotion: 'keep-odd' }) });
  machine.apply({ type: 'normal', index: ++index, term: 1, data: encodeMemberCommand({ op: 'memberSet', id: 'arbiter-9', peerAddress: '127.0.0.9:8090', apiAddress: '127.0.0.9:8090', promotion: 'keep-odd', arbiter: true }) });

  const copy = new ClusterStateMachine();
  copy.restore(machine.snapshot());
  assert.deepEqual(copy.credentials.state(), machine.credentials.state());
  assert.equal(copy.members.get('n2')?.promotion, 'keep-odd');
  assert.equal(copy.members.get('n2')?.arbiter, undefined);
  assert.deepEqual(copy.members.get('arbiter-9'), { id: 'arbiter-9', peerAddress: '127.0.0.9:8090', apiAddress: '127.0.0.9:8090', promotion: 'keep-odd', arbiter: true });
  assert.deepEqual(copy.snapshot(), machine.snapshot());

  // A week after the first token ended, creating another drops it.
  assert.equal(apply({ op: 'tokenCreate', token: token('0000000000000002', 3_000 + 8 * day) }).ok, true);
  assert.deepEqual(
    machine.credentials.list().map((t) => t.id),
    ['0000000000000002'],
  );
});
