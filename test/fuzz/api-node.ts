/**
 * The node the HTTP API fuzz tests run against: a real single-node server (test/api/
 * single-node.ts) with three sentinel keys that no fuzz input can reach (they start with the
 * bytes 0xfe 0xff, which no generated key does), what its API logged, and the highest
 * revision any answer showed.
 */
import assert from 'node:assert/strict';
import { raw } from '../api/raw-http.js';
import { SingleNode, singleNodeAdminToken } from '../api/single-node.js';
import { createLogger } from '../../src/util/log.js';

const sentinelPath = (i: number): string => `/v1/kv/%FE%FFsentinel-${i}`;
const admin = { authorization: `Bearer ${singleNodeAdminToken}` };

export class ApiFuzzNode {
  private revisionSeen = 0;
  private writes = 0;
  private readonly sentinels = new Map<number, string>();

  private constructor(
    private readonly node: SingleNode,
    /** What the API logged: it logs only unexpected errors. */
    readonly logged: readonly string[],
  ) {}

  static async start(): Promise<ApiFuzzNode> {
    const logged: string[] = [];
    const harness = new ApiFuzzNode(await SingleNode.start({ log: createLogger({ write: (line) => logged.push(line) }) }), logged);
    try {
      for (const i of [0, 1, 2]) {
        const put = await raw(harness.url, 'PUT', sentinelPath(i), `sentinel value ${i}`, admin);
        assert.equal(put.status, 200, put.text);
        harness.sentinels.set(i, await harness.sentinel(i));
      }
    } catch (error) {
      await harness.stop();
      throw error;
    }
    return harness;
  }

  get url(): string {
    return this.node.url;
  }

  get port(): number {
    return this.node.api.address.port;
  }

  stop(): Promise<void> {
    return this.node.stop();
  }

  noteRevision(json: unknown): void {
    const revision = (json as { revision?: unknown } | null)?.revision;
    if (typeof revision === 'number') this.revisionSeen = Math.max(this.revisionSeen, revision);
  }

  /** The sentinel as GET shows it, without the store's revision (which moves with every write). */
  private async sentinel(i: number): Promise<string> {
    const { revision, ...kv } = (await raw(this.url, 'GET', sentinelPath(i), undefined, admin)).json;
    assert.equal(typeof revision, 'number');
    return JSON.stringify(kv);
  }

  async assertSentinelsIntact(): Promise<void> {
    for (const [i, kv] of this.sentinels) assert.equal(await this.sentinel(i), kv, `sentinel ${i} changed`);
  }

  /** After a run: healthy, a new key written and read back, no revision seen beyond the node's. */
  async assertHealthy(): Promise<void> {
    const health = await raw(this.url, 'GET', '/v1/health', undefined, admin);
    assert.equal(health.status, 200, health.text);
    const path = `/v1/kv/fuzz-check/${this.writes++}`;
    const put = await raw(this.url, 'PUT', path, 'written after the fuzzing', admin);
    assert.equal(put.status, 200, put.text);
    const get = await raw(this.url, 'GET', path, undefined, admin);
    assert.equal(get.json['value'], 'written after the fuzzing');
    assert.equal(get.json['modRevision'], put.json['revision']);
    assert.ok((get.json['revision'] as number) >= this.revisionSeen, `an answer showed revision ${this.revisionSeen}, the node is at ${String(get.json['revision'])}`);
    await this.assertSentinelsIntact();
  }
}
