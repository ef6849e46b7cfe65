/**
 * Requests between nodes over real TLS connections: a round trip carries any msgpack value
 * (binary included) and tells the answering side who asked; a QuorateError thrown by the
 * remote handler arrives with its code and message; a slow answer times out with `timeout`;
 * an unknown or unreachable peer fails with `unreachable`; a node that knows only an address
 * can ask it (requestAddress), and the answering node still knows the asker's id from its
 * certificate; closing a transport rejects the requests it still waits on; a request whose
 * connection closes after it was sent fails as OutcomeUnknown.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { QuorateError, isQuorateError } from '../../src/util/errors.js';
import { assertNoLeakedHandles, startNode, unusedPort, type TestNode } from './helpers.js';

let a: TestNode;
let b: TestNode;
/** Answers to 'slow' requests, released when the test is done with them. */
const held: (() => void)[] = [];

async function answer(from: string, method: string, body: unknown): Promise<unknown> {
  switch (method) {
    case 'echo':
      return { from, body };
    case 'fail':
      throw new QuorateError('not_leader', 'node a is not the leader; ask b');
    case 'crash':
      throw new Error('disk on fire');
    case 'slow':
      return new Promise((resolve) => held.push(() => resolve('late')));
    default:
      throw new QuorateError('unknown_method', method);
  }
}

before(async () => {
  a = await startNode({ id: 'rpc-a', host: '127.0.0.1', onRequest: answer });
  b = await startNode({ id: 'rpc-b', host: '127.0.0.2', onRequest: answer });
  b.transport.setPeers(new Map([['rpc-a', a.address]]));
});

after(async () => {
  for (const release of held) release();
  await Promise.all([a.transport.close(), b.transport.close()]);
  await assertNoLeakedHandles();
});

test('a request round trip carries binary data and names the asker', async () => {
  const body = { key: 'k', value: Uint8Array.of(1, 2, 3), n: 2 ** 40, list: [true, null, 'x'] };
  const got = (await b.transport.request('rpc-a', 'echo', body, 5000)) as { from: string; body: typeof body };
  assert.equal(got.from, 'rpc-b');
  assert.deepEqual({ ...got.body, value: new Uint8Array(got.body.value) }, body);
});

test("a QuorateError thrown by the remote handler arrives with its code and message", async () => {
  await assert.rejects(b.transport.request('rpc-a', 'fail', null, 5000), (e) => isQuorateError(e, 'not_leader') && e.message === 'node a is not the leader; ask b');
  await assert.rejects(b.transport.request('rpc-a', 'crash', null, 5000), (e) => isQuorateError(e, 'internal') && e.message.includes('disk on fire'));
});

test('a slow answer times out; unknown and unreachable peers fail as unreachable', async () => {
  await assert.rejects(b.transport.request('rpc-a', 'slow', null, 200), (e) => isQuorateError(e, 'timeout') && e.message.includes('200 ms'));
  await assert.rejects(b.transport.request('nobody', 'echo', null, 1000), (e) => isQuorateError(e, 'unreachable'));
  b.transport.setPeers(new Map([['rpc-a', a.address], ['rpc-gone', `127.0.0.3:${await unusedPort('127.0.0.3')}`]]));
  await assert.rejects(b.transport.request('rpc-gone', 'echo', null, 5000), (e) => isQuorateError(e, 'unreachable') && e.message.includes('rpc-gone'));
});

test('a node that knows only an address can ask it, and is known by its certificate', async () => {
  const joiner = await startNode({ id: 'rpc-joiner', host: '127.0.0.3' });
  try {
    const got = (await joiner.transport.requestAddress(a.address, 'echo', 'hello', 5000)) as { from: string; body: unknown };
    assert.deepEqual(got, { from: 'rpc-joiner', body: 'hello' });
    await assert.rejects(joiner.transport.requestAddress(`127.0.0.3:${await unusedPort('127.0.0.3')}`, 'echo', null, 5000), (e) => isQuorateError(e, 'unreachable'));
    await assert.rejects(joiner.transport.requestAddress('no-port', 'echo', null, 5000), (e) => isQuorateError(e, 'invalid_address'));
  } finally {
    await joiner.transport.close();
  }
});

test('closing a transport rejects the requests it waits on', async () => {
  const asker = await startNode({ id: 'rpc-asker', host: '127.0.0.3' });
  asker.transport.setPeers(new Map([['rpc-a', a.address]]));
  const heldBefore = held.length;
  const pending = asker.transport.request('rpc-a', 'slow', null, 60_000);
  const outcome = assert.rejects(pending, (e) => isQuorateError(e, 'unavailable'));
  // Wait until the request reached the remote handler, so that it waits for an answer.
  while (held.length === heldBefore) await new Promise((resolve) => setTimeout(resolve, 5));
  await asker.transport.close();
  await outcome;
  await assert.rejects(asker.transport.request('rpc-a', 'echo', null, 1000), (e) => isQuorateError(e, 'unavailable'));
});

test('a request whose connection closes after it was sent has an unknown outcome, not unreachable', async () => {
  // The answering side goes away while its handler holds the request: the request was carried
  // to it and may have been carried out, so the asker must not take it for never sent (a
  // forwarded write would then be sent again; the chaos suite caught a CAS applied twice).
  const answerer = await startNode({ id: 'rpc-answerer', host: '127.0.0.3', onRequest: answer });
  b.transport.setPeers(new Map([['rpc-a', a.address], ['rpc-answerer', answerer.address]]));
  const heldBefore = held.length;
  const pending = b.transport.request('rpc-answerer', 'slow', null, 60_000);
  const outcome = assert.rejects(pending, (e) => isQuorateError(e, 'OutcomeUnknown') && e.message.includes('may or may not have been carried out'));
  while (held.length === heldBefore) await new Promise((resolve) => setTimeout(resolve, 5));
  await answerer.transport.close();
  await outcome;
});
