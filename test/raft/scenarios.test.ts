/**
 * Scenario tests: each file in test/raft/scenarios/ is a readable story of a small cluster, one
 * command per line, with expectations between the commands (in the spirit of etcd-io/raft's
 * interaction tests). The runner executes the commands on a TestNetwork and fails on the first
 * expectation that does not hold, naming the file and line.
 *
 *   cluster n1 n2 n3 [option=value ...]   a new cluster (options: readMode, preVote, checkQuorum)
 *   elect n1 | tick n1 [count] | tick-all [count] | settle
 *   propose n1 TEXT | read n1 CONTEXT | transfer n1 n2 | compact n1 INDEX
 *   add-empty n4 | conf n1 addLearner|promote|remove n4
 *   isolate n3 | cut n1 n2 | drop MsgType | heal
 *   expect n1 role=leader term=3 commit=4 applied=4 leader=n1 lastIndex=4 voters=n1,n2 learners=n4
 *   expect-read n1 CONTEXT [index=N] | expect-no-read n1 CONTEXT
 *   expect-same-log n1 n2 n3            the nodes applied identical entries
 *   expect-error CODE                   the previous command failed with this error code
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfChange } from '../../src/raft/index.js';
import { TestNetwork, text } from './harness.js';

const dir = join(import.meta.dirname, '..', '..', '..', 'test', 'raft', 'scenarios');

class ScenarioRunner {
  private net: TestNetwork | null = null;
  private lastError: unknown = null;

  private network(): TestNetwork {
    if (this.net === null) throw new Error('no cluster yet: start with "cluster n1 n2 n3"');
    return this.net;
  }

  run(words: string[], next: string | undefined): void {
    const [command, ...args] = words;
    const arg = (i: number): string => {
      const value = args[i];
      if (value === undefined) throw new Error(`${String(command)}: missing argument ${i + 1}`);
      return value;
    };
    const count = (i: number): number => (args[i] === undefined ? 1 : Number(args[i]));
    if (command?.startsWith('expect')) {
      this.expect(command, args);
      this.lastError = null;
      return;
    }
    try {
      this.act(command ?? '', args, arg, count);
    } catch (error) {
      // A command may fail only when the next line expects it to.
      if (next !== 'expect-error') throw error;
      this.lastError = error;
    }
  }

  private act(command: string, args: string[], arg: (i: number) => string, count: (i: number) => number): void {
    const net = command === 'cluster' ? null : this.network();
    switch (command) {
      case 'cluster': {
        const ids = args.filter((a) => !a.includes('='));
        const config = Object.fromEntries(args.filter((a) => a.includes('=')).map((a) => parseOption(a)));
        this.net = new TestNetwork(ids, config);
        return;
      }
      case 'elect': return net?.elect(arg(0));
      case 'tick': return net?.tick(arg(0), count(1));
      case 'tick-all': return net?.tickAll(count(0));
      case 'settle': return net?.settle();
      case 'propose': return void net?.propose(arg(0), arg(1));
      case 'read': net?.raft(arg(0)).readIndex(arg(1)); return net?.settle();
      case 'transfer': net?.raft(arg(0)).transferLeader(arg(1)); return net?.settle();
      case 'compact': {
        const raft = net?.raft(arg(0));
        raft?.compact(() => new Uint8Array(), Number(arg(1)));
        return;
      }
      case 'add-empty': return void net?.addEmpty(arg(0));
      case 'conf': net?.raft(arg(0)).proposeConfChange({ type: arg(1), nodeId: arg(2) } as ConfChange); return net?.settle();
      case 'isolate': return net?.isolate(arg(0));
      case 'cut': return net?.cut(arg(0), arg(1));
      case 'drop': return void net?.dropTypes.add(arg(0) as never);
      case 'heal': return net?.heal();
      default: throw new Error(`unknown command "${command}"`);
    }
  }

  private expect(command: string, args: string[]): void {
    const net = this.network();
    const [id = '', ...rest] = args;
    switch (command) {
      case 'expect': {
        const status = net.raft(id).status();
        const actual: Record<string, string> = {
          role: status.role, term: String(status.term), commit: String(status.commit), applied: String(status.applied),
          leader: String(status.leader), lastIndex: String(status.lastIndex), voters: status.conf.voters.join(','), learners: status.conf.learners.join(','),
        };
        for (const pair of rest) {
          const [key, value] = parseOption(pair);
          assert.equal(actual[key], String(value), `${id} ${key}`);
        }
        return;
      }
      case 'expect-read':
      case 'expect-no-read': {
        const context = rest[0] ?? '';
        const found = net.node(id).readStates.find((r) => r.context === context);
        if (command === 'expect-no-read') {
          assert.equal(found, undefined, `${id} answered read ${context}`);
          return;
        }
        assert.ok(found, `${id} has no read state for ${context}`);
        if (rest[1] !== undefined) assert.equal(String(found.index), parseOption(rest[1])[1]);
        return;
      }
      case 'expect-same-log': {
        const logs = args.map((n) => net.node(n).applied.map((e) => `${e.index}/${e.term}/${text(e)}`).join(' '));
        for (const log of logs) assert.equal(log, logs[0], `applied logs differ: ${args.join(', ')}`);
        return;
      }
      case 'expect-error': {
        const code = (this.lastError as { code?: string } | null)?.code;
        assert.equal(code, id, `expected the previous command to fail with ${id}`);
        return;
      }
      default:
        throw new Error(`unknown expectation "${command}"`);
    }
  }
}

function parseOption(pair: string): [string, string | number | boolean] {
  const at = pair.indexOf('=');
  const key = pair.slice(0, at);
  const raw = pair.slice(at + 1);
  return [key, raw === 'true' ? true : raw === 'false' ? false : raw];
}

describe('raft scenarios', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    test(file, () => {
      const runner = new ScenarioRunner();
      const lines = readFileSync(join(dir, file), 'utf8').split('\n');
      const commands = lines.map((line) => line.replace(/#.*/, '').trim().split(/\s+/).filter((w) => w !== ''));
      commands.forEach((words, i) => {
        if (words.length === 0) return;
        const next = commands.slice(i + 1).find((w) => w.length > 0)?.[0];
        const line = lines[i] ?? '';
        try {
          runner.run(words, next);
        } catch (error) {
          throw new Error(`${file}:${i + 1}: ${line.trim()}\n${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
      });
    });
  }
});
