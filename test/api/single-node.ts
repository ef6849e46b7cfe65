/**
 * A real single-voter server for the API, client and CLI tests: a ServerNode with its data in
 * a temp directory and its peer listener on a free loopback port, plus the HTTP API on
 * 127.0.0.1 with port 0. stop() closes the API, stops the node and removes the directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../src/api/index.js';
import { deriveAdminToken } from '../../src/cluster/admin-token.js';
import { parseServerConfig, ServerNode } from '../../src/server/index.js';
import { silentLogger } from '../../src/util/log.js';

const clusterSecret = 'api-test-secret-0123456789';
/** The admin token of every SingleNode (derived from its cluster secret, as `cluster admin-token` prints it). */
export const singleNodeAdminToken = deriveAdminToken(clusterSecret, 'quorate');

/** A port that was free a moment ago (the peer listener needs a fixed one in its config). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export class SingleNode {
  private constructor(
    readonly node: ServerNode,
    readonly api: ApiServer,
    private readonly dir: string,
  ) {}

  static async start(apiOptions: Partial<ApiServerOptions> = {}): Promise<SingleNode> {
    const dir = await mkdtemp(join(tmpdir(), 'quorate-api-'));
    const peer = `127.0.0.1:${await freePort()}`;
    const config = parseServerConfig(
      { cluster: { node_id: 1, listen_address: peer, initial_cluster: [{ id: 1, address: peer }], db_root_dir: join(dir, 'db'), cluster_secret: clusterSecret } },
      dir,
    );
    const node = await ServerNode.start(config);
    const deadline = Date.now() + 10_000;
    while (node.service.status().leader === null) {
      if (Date.now() > deadline) throw new Error('the single node did not elect itself within 10 s');
      await sleep(20);
    }
    const api = await startApiServer(node.service, { host: '127.0.0.1', port: 0, log: silentLogger, metrics: node.metrics.registry, ...apiOptions });
    return new SingleNode(node, api, dir);
  }

  get url(): string {
    return this.api.url;
  }

  async stop(): Promise<void> {
    await this.api.close();
    await this.node.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
