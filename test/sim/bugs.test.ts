/**
 * The checkers catch real bugs. Each case switches on one deliberate bug in the core (a
 * test-only switch, `testingBugs`) and runs the simulator over seeds until a checker fails,
 * within a fixed seed budget. The same seeds must pass with the bug switched off, so what is
 * found is the bug and not noise. Each profile names the faults that expose the bug, as a
 * targeted campaign would.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestingBugs } from '../../src/raft/index.js';
import { replayCommand, runSimulation, type FailureKind, type SimOptions } from '../../src/sim/run.js';

interface BugCase {
  readonly bug: keyof TestingBugs;
  readonly why: string;
  readonly profile: Omit<SimOptions, 'seed' | 'bugs'>;
  readonly budget: number;
  readonly expect: FailureKind;
  readonly message: RegExp;
}

const cases: readonly BugCase[] = [
  {
    bug: 'commitOldTermByCounting',
    why: 'section 5.4.2 / Figure 8: an entry of an old term committed by counting replicas is later overwritten',
    profile: { nodes: 5, faults: ['figure8'], flowControl: { appendBytesMax: 1 } },
    budget: 20,
    expect: 'safety',
    message: /leader completeness|state machine safety/,
  },
  {
    bug: 'voteTwice',
    why: 'section 5.2: a node that votes twice in a term lets two leaders win it',
    profile: { nodes: 5, faults: ['leaderChurn', 'crash'] },
    budget: 60,
    expect: 'safety',
    message: /election safety/,
  },
  {
    bug: 'skipElectionRestriction',
    why: 'section 5.4.1: a candidate missing committed entries wins and drops them',
    profile: { nodes: 5, faults: ['crash'] },
    budget: 30,
    expect: 'safety',
    message: /leader completeness|state machine safety|log matching/,
  },
  {
    bug: 'readWithoutQuorum',
    why: 'section 8: reads served from local state without ReadIndex return stale values',
    profile: { nodes: 3, faults: ['partition'] },
    budget: 10,
    expect: 'linearizability',
    message: /not linearizable/,
  },
];

describe('the simulator finds deliberately broken cores', () => {
  for (const c of cases) {
    test(`${c.bug}: ${c.why}`, async () => {
      let found: { seed: number; kind: FailureKind; message: string } | null = null;
      for (let seed = 1; seed <= c.budget && found === null; seed++) {
        const result = await runSimulation({ ...c.profile, seed, bugs: { [c.bug]: true } });
        if (result.failure !== null) found = { seed, ...result.failure };
      }
      assert.ok(found !== null, `${c.bug} was not found in ${c.budget} seeds`);
      assert.equal(found.kind, c.expect, found.message);
      assert.match(found.message, c.message);
      // The same seed is clean without the bug: the checker saw the bug, not the faults.
      const clean = await runSimulation({ ...c.profile, seed: found.seed });
      assert.equal(clean.failure, null, `seed ${found.seed} fails without the bug too: ${replayCommand({ ...c.profile, seed: found.seed })}`);
    });
  }
});
