/**
 * ResumePosition, the bookkeeping that lets a watch resume on another endpoint without missing
 * or repeating events, driven as a pure object through the situations a stream can be in:
 * breaking between two events of one revision, progress lines moving the position, and a
 * lagging node replaying events the watcher has already seen.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResumePosition } from '../../src/client/resume.js';

test('a stream broken inside a revision resumes at that revision and skips what was seen', () => {
  const position = new ResumePosition(5);
  position.startStream();
  assert.deepEqual([5, 6, 6].map((r) => position.accept(r)), [true, true, true]);
  // The stream broke after two of revision 6's three events.
  assert.equal(position.from, 6);
  position.startStream();
  assert.deepEqual([6, 6, 6, 7].map((r) => position.accept(r)), [false, false, true, true]);
  assert.equal(position.from, 7);
});

test('a progress line moves the position past everything it covers', () => {
  const position = new ResumePosition(0);
  position.startStream();
  position.progress(10);
  assert.equal(position.from, 11);
  assert.equal(position.accept(10), false, 'covered by the progress line');
  assert.equal(position.accept(11), true);
  position.progress(11);
  assert.equal(position.from, 12);
  position.progress(3);
  assert.equal(position.from, 12, 'an older progress line (a lagging node) changes nothing');
});

test('a lagging node replaying old revisions delivers nothing twice', () => {
  const position = new ResumePosition(1);
  position.startStream();
  for (const revision of [1, 2, 3]) assert.equal(position.accept(revision), true);
  position.startStream();
  assert.deepEqual([1, 2, 3, 3, 4].map((r) => position.accept(r)), [false, false, false, true, true]);
});

test('a watch from a future revision keeps its start when progress is behind it', () => {
  const position = new ResumePosition(100);
  position.startStream();
  position.progress(40);
  assert.equal(position.from, 100);
  assert.equal(position.accept(99), false);
  assert.equal(position.accept(100), true);
});
