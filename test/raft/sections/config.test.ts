// Configuration validation (src/raft/config.ts). Checks that validateRaftConfig accepts the
// defaults (electionTicks 30, heartbeatTicks 10, PreVote and CheckQuorum on, ReadIndex reads) and
// rejects settings that would make the core unable to elect a leader or unsafe: an election
// timeout not longer than the heartbeat interval, lease reads without CheckQuorum, non-positive
// limits; each with a QuorateError (code InvalidConfig) whose message names the problem, and all
// problems at once. Also that the Raft constructor applies the same validation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QuorateError, isQuorateError } from '../../../src/util/errors.js';
import { defaultRaftConfig, validateRaftConfig, type RaftConfig } from '../../../src/raft/index.js';
import { newRaft } from './helpers.js';

function rejection(overrides: Partial<RaftConfig>): QuorateError {
  let caught: unknown = null;
  try {
    validateRaftConfig({ ...defaultRaftConfig, ...overrides });
  } catch (error) {
    caught = error;
  }
  assert.ok(isQuorateError(caught), `expected a QuorateError for ${JSON.stringify(overrides)}`);
  assert.equal(caught.code, 'InvalidConfig');
  return caught;
}

void describe('raft configuration validation', () => {
  void test('the defaults are valid and returned unchanged', () => {
    assert.deepEqual(
      [defaultRaftConfig.electionTicks, defaultRaftConfig.heartbeatTicks, defaultRaftConfig.preVote, defaultRaftConfig.checkQuorum, defaultRaftConfig.readMode],
      [30, 10, true, true, 'readIndex'],
    );
    assert.equal(defaultRaftConfig.testingBugs, undefined, 'no deliberate bug is on by default');
    assert.equal(validateRaftConfig(defaultRaftConfig), defaultRaftConfig);
    const lease = { ...defaultRaftConfig, readMode: 'lease' as const };
    assert.equal(validateRaftConfig(lease), lease);
  });

  void test('electionTicks must be greater than heartbeatTicks', () => {
    for (const [electionTicks, heartbeatTicks] of [
      [10, 10],
      [5, 10],
      [0, 10],
    ] as const) {
      const error = rejection({ electionTicks, heartbeatTicks });
      assert.match(error.message, /electionTicks/);
      assert.match(error.message, /heartbeatTicks/);
    }
    assert.doesNotThrow(() => validateRaftConfig({ ...defaultRaftConfig, electionTicks: 11, heartbeatTicks: 10 }));
    assert.match(rejection({ electionTicks: 30.5 }).message, /electionTicks/);
    assert.match(rejection({ heartbeatTicks: 0, electionTicks: 5 }).message, /heartbeatTicks must be a positive integer/);
  });

  void test('lease reads require CheckQuorum', () => {
    const error = rejection({ readMode: 'lease', checkQuorum: false });
    assert.match(error.message, /lease/);
    assert.match(error.message, /checkQuorum/);
    assert.doesNotThrow(() => validateRaftConfig({ ...defaultRaftConfig, readMode: 'readIndex', checkQuorum: false }));
  });

  void test('limits must be positive', () => {
    for (const key of ['appendBytesMax', 'inflightMessagesMax', 'inflightBytesMax', 'uncommittedBytesMax', 'applyBytesMax', 'readRequestsMax', 'snapshotTicksMax'] as const) {
      assert.match(rejection({ [key]: 0 }).message, new RegExp(key), key);
    }
  });

  void test('every problem is reported at once', () => {
    const error = rejection({ electionTicks: 10, heartbeatTicks: 10, readMode: 'lease', checkQuorum: false, readRequestsMax: 0 });
    assert.match(error.message, /electionTicks/);
    assert.match(error.message, /lease/);
    assert.match(error.message, /readRequestsMax/);
  });

  void test('the Raft constructor rejects an invalid configuration', () => {
    assert.throws(
      () => newRaft({ id: 'n1', voters: ['n1'], config: { electionTicks: 3, heartbeatTicks: 3 } }),
      (error: unknown) => error instanceof QuorateError && error.code === 'InvalidConfig' && /electionTicks/.test(error.message),
    );
  });
});
