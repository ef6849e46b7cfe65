/** `quorate events`' lines for people: the time to the second, the type, the node ("-" for none), the message. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatEvent } from '../../src/cli/events-command.js';

test('an event line: time without milliseconds, type, node or "-", message', () => {
  assert.equal(
    formatEvent({ seq: 7, time: '2026-11-22T10:00:00.123Z', type: 'leader_elected', node: 'node-2', term: 7, message: 'node-2 was elected leader (term 7)' }),
    '2026-11-22T10:00:00Z  leader_elected  node-2  node-2 was elected leader (term 7)\n',
  );
  assert.equal(
    formatEvent({ seq: 8, time: '2026-11-22T10:00:01.000Z', type: 'quorum_lost', term: 7, message: 'no quorum: no leader is known for 0.9 s. Writes are refused until a majority is back' }),
    '2026-11-22T10:00:01Z  quorum_lost  -  no quorum: no leader is known for 0.9 s. Writes are refused until a majority is back\n',
  );
});
