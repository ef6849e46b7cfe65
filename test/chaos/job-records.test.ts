/**
 * The analysis of the recording job's lines (job-records.ts) on hand-made records: lives from
 * start to stop, a SIGKILLed copy ending one tick after its last, and the sweep that finds every
 * instant a job ran more copies than its count, including a one-millisecond overlap.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyLives, excessInstants, longestSilence } from './job-records.js';

const tick = 50;

test('lives: start to stop; without a stop, one tick after the last tick', () => {
  const lives = copyLives(
    [
      'start web web.0.a 127.0.9.1 100 1000',
      'start web web.1.b 127.0.9.2 200 1010',
      'tick web.0.a 100 1050',
      'tick web.1.b 200 1060',
      'tick web.0.a 100 1100',
      'stop web.0.a 100 1120',
    ],
    tick,
  );
  assert.deepEqual(
    lives.map((l) => [l.allocation, l.node, l.from, l.to, l.stopped]),
    [
      ['web.0.a', '127.0.9.1', 1000, 1120, true],
      ['web.1.b', '127.0.9.2', 1010, 1110, false],
    ],
  );
  assert.equal(copyLives(['start web web.1.b 127.0.9.2 200 1010'], tick, 1030)[0]?.to, 1030, 'never past the known end');
  assert.throws(() => copyLives(['tick web.0.a 100 1050'], tick), /without its start/);
  assert.throws(() => copyLives(['start web 100 1000'], tick), /unreadable record/);
});

test('hand-overs are not overlaps; a replacement that starts before the old copy stopped is', () => {
  const handOver = copyLives(['start db db.0.a 127.0.9.1 1 1000', 'stop db.0.a 1 2000', 'start db db.0.b 127.0.9.2 2 2000', 'stop db.0.b 2 3000'], tick);
  assert.deepEqual(excessInstants(handOver, { db: 1 }), []);
  const overlap = copyLives(['start db db.0.a 127.0.9.1 1 1000', 'stop db.0.a 1 2001', 'start db db.0.b 127.0.9.2 2 2000', 'stop db.0.b 2 3000'], tick);
  assert.deepEqual(excessInstants(overlap, { db: 1 }), [{ job: 'db', at: 2000, running: 2, count: 1, allocations: ['db.0.a@127.0.9.1 (pid 1)', 'db.0.b@127.0.9.2 (pid 2)'] }]);
});

test('a SIGKILLed copy (no stop) overlaps a replacement started within a tick of its last sign of life', () => {
  const lines = ['start db db.0.a 127.0.9.1 1 1000', 'tick db.0.a 1 1050', 'tick db.0.a 1 1100', 'start db db.0.b 127.0.9.2 2 1140', 'stop db.0.b 2 1500'];
  assert.equal(excessInstants(copyLives(lines, tick), { db: 1 }).length, 1);
  const later = lines.map((l) => l.replace('1140', '1150'));
  assert.deepEqual(excessInstants(copyLives(later, tick), { db: 1 }), []);
});

test('each job against its own count; every excess instant is reported', () => {
  const lines = [
    'start web web.0.a 127.0.9.1 1 1000',
    'start web web.1.b 127.0.9.2 2 1000',
    'start web web.1.c 127.0.9.3 3 1500',
    'stop web.1.b 2 1600',
    'start web web.0.d 127.0.9.4 4 1700',
    'stop web.0.a 1 1800',
    'start db db.0.e 127.0.9.1 5 1000',
    'stop web.1.c 3 3000',
    'stop web.0.d 4 3000',
    'stop db.0.e 5 3000',
  ];
  const excess = excessInstants(copyLives(lines, tick), { web: 2, db: 1 });
  assert.deepEqual(
    excess.map((e) => [e.job, e.at, e.running]),
    [
      ['web', 1500, 3],
      ['web', 1700, 3],
    ],
  );
  assert.deepEqual(excessInstants(copyLives(lines, tick), { web: 3, db: 1 }), []);
  assert.throws(() => excessInstants(copyLives(lines, tick), { web: 3 }), /no count for job db/);
});

test('the longest silence of a copy within a window', () => {
  const [life] = copyLives(['start db db.0.a 127.0.9.1 1 1000', 'tick db.0.a 1 1050', 'tick db.0.a 1 1400', 'tick db.0.a 1 1450', 'stop db.0.a 1 1470'], tick);
  assert.ok(life !== undefined);
  assert.equal(longestSilence(life, 1000, 1470), 350);
  assert.equal(longestSilence(life, 1100, 1300), 200, 'no sign of life within the window at all');
});
