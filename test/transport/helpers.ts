/**
 * Shared pieces of the transport tests: certificates from a derived cluster CA, transports on
 * loopback addresses that record what they receive and log, polling, a byte-counting TCP
 * proxy that can cut a connection, and a check that nothing was left open.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { deriveCa, issueNodeCert, type CertAndKey } from '../../src/cluster/certs.js';
import { message, type Entry, type Message } from '../../src/raft/index.js';
import { PeerTransport, type PeerTransportOptions, type TransportLimits, type TransportTls } from '../../src/transport/index.js';

export const clusterId = 'test-cluster';
export const secret = 'transport-test-secret-0123456789';

const cas = new Map<string, Promise<CertAndKey>>();

/** TLS material for `nodeId`, from the CA derived from `caSecret`; `commonName` overrides the CN. */
export async function tlsFor(nodeId: string, options: { caSecret?: string; commonName?: string } = {}): Promise<TransportTls> {
  const caSecret = options.caSecret ?? secret;
  let ca = cas.get(caSecret);
  if (ca === undefined) cas.set(caSecret, (ca = deriveCa(caSecret, clusterId)));
  const cert = await issueNodeCert(await ca, { nodeId: options.commonName ?? nodeId, ipAddresses: ['127.0.0.1', '127.0.0.2', '127.0.0.3'] });
  return { caPem: (await ca).certPem, certPem: cert.certPem, keyPem: cert.keyPem };
}

export interface LogLine {
  readonly level: string;
  readonly msg: string;
}

export interface TestNode {
  readonly id: string;
  readonly host: string;
  readonly transport: PeerTransport;
  readonly received: Message[];
  readonly logs: LogLine[];
  readonly snapshotStatus: boolean[];
  /** This node's peer address (`host:port`). */
  readonly address: string;
}

export interface NodeSpec {
  readonly id: string;
  readonly host: string;
  readonly port?: number;
  readonly tls?: TransportTls;
  readonly clusterId?: string;
  readonly limits?: Partial<TransportLimits>;
  readonly onRequest?: PeerTransportOptions['onRequest'];
  readonly serverName?: string;
  readonly sharedListener?: PeerTransportOptions['sharedListener'];
}

export async function startNode(spec: NodeSpec): Promise<TestNode> {
  const received: Message[] = [];
  const logs: LogLine[] = [];
  const snapshotStatus: boolean[] = [];
  const transport = await PeerTransport.start({
    nodeId: spec.id,
    clusterId: spec.clusterId ?? clusterId,
    listenHost: spec.host,
    listenPort: spec.port ?? 0,
    advertiseHost: spec.host,
    tls: spec.tls ?? (await tlsFor(spec.id)),
    onMessage: (m) => received.push(m),
    ...(spec.onRequest === undefined ? {} : { onRequest: spec.onRequest }),
    onSnapshotStatus: (_to, ok) => snapshotStatus.push(ok),
    ...(spec.limits === undefined ? {} : { limits: spec.limits }),
    ...(spec.serverName === undefined ? {} : { serverName: spec.serverName }),
    ...(spec.sharedListener === undefined ? {} : { sharedListener: spec.sharedListener }),
    log: (level, msg) => logs.push({ level, msg }),
  });
  return { id: spec.id, host: spec.host, transport, received, logs, snapshotStatus, address: transport.advertiseAddress };
}

/** Tell every node where all the others are. */
export function connectAll(nodes: readonly TestNode[]): void {
  const peers = new Map(nodes.map((n) => [n.id, n.address]));
  for (const n of nodes) n.transport.setPeers(peers);
}

/** Poll until `condition` holds; on timeout, fail with `what` and the logs of `nodes`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000, nodes: readonly TestNode[] = []): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) {
      const logs = nodes.map((n) => `${n.id}:\n${n.logs.map((l) => `  ${l.level} ${l.msg}`).join('\n')}`).join('\n');
      assert.fail(`timed out waiting for ${what}${logs === '' ? '' : `\n${logs}`}`);
    }
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function logged(node: TestNode, text: string): boolean {
  return node.logs.some((line) => line.msg.includes(text));
}

let markers = 0;

/**
 * Send heartbeats from `from` to `to` until one of them arrives. Each call marks its own (in
 * `context`), so a message still in flight from earlier cannot satisfy it.
 */
export async function deliverOne(from: TestNode, to: TestNode): Promise<void> {
  const context = `marker-${++markers}`;
  await waitFor(() => {
    from.transport.send([message({ type: 'MsgHeartbeat', from: from.id, to: to.id, term: 1, context })]);
    return to.received.some((m) => m.context === context);
  }, `a message from ${from.id} to ${to.id}`);
}

export function heartbeat(from: string, to: string, term = 1): Message {
  return message({ type: 'MsgHeartbeat', from, to, term, commit: 7, context: 'ctx' });
}

export function append(from: string, to: string, entries: readonly Entry[]): Message {
  return message({ type: 'MsgApp', from, to, term: 3, logTerm: 2, index: 10, commit: 9, entries });
}

/** A free port on `host`, released before it is returned (nothing listens there afterwards). */
export async function unusedPort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(typeof address === 'object' && address !== null);
  return address.port;
}

/**
 * A TCP proxy to `target` that can cut its first connection after `cutAfterBytes` bytes
 * flowed towards the target (later connections pass through untouched), and can freeze:
 * stop forwarding in both directions without closing anything, as a partition does.
 */
export class CuttingProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private cutDone = false;
  frozen = false;
  forwardedBytes = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    private readonly cutAfterBytes: number,
  ) {
    this.server = net.createServer((client) => this.relay(client));
  }

  static async start(host: string, target: { host: string; port: number }, cutAfterBytes: number): Promise<{ proxy: CuttingProxy; address: string }> {
    const proxy = new CuttingProxy(target, cutAfterBytes);
    await new Promise<void>((resolve) => proxy.server.listen(0, host, resolve));
    const address = proxy.server.address();
    assert.ok(typeof address === 'object' && address !== null);
    return { proxy, address: `${host}:${address.port}` };
  }

  get cut(): boolean {
    return this.cutDone;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect(this.target);
    const cutting = !this.cutDone;
    let bytes = 0;
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      if (this.frozen) return;
      bytes += chunk.length;
      this.forwardedBytes += chunk.length;
      if (cutting && !this.cutDone && bytes > this.cutAfterBytes) {
        this.cutDone = true;
        client.destroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.frozen) client.write(chunk);
    });
    // A frozen proxy does not pass closes on either: across a partition, nobody hears them.
    client.on('close', () => {
      if (!this.frozen) upstream.destroy();
    });
    upstream.on('close', () => {
      if (!this.frozen) client.destroy();
    });
  }
}

/**
 * After every transport is closed, no socket, server or timer may be left (DESIGN rule 8).
 * Sockets and servers release their handles a tick or two after their close events, hence
 * the short wait; the test runner's own pipes to its parent are not ours.
 */
export async function assertNoLeakedHandles(): Promise<void> {
  const open = (): string[] => process.getActiveResourcesInfo().filter((r) => /TCP|TLS|Timeout|Immediate/.test(r));
  for (let i = 0; i < 100 && open().length > 0; i++) await sleep(2);
  assert.deepEqual(open(), [], `handles left open: ${open().join(', ')}`);
}
