/**
 * `--client etcd`: every target is driven through the same etcd v3 gRPC client, so that the
 * ratio compares the servers alone, with the same protocol, encoding and connection handling
 * on both sides. The client is plain grpc-js on the etcd protocol definitions (proto/), one
 * channel per endpoint, no retries: as thin as the JSON client of the default mode. Node
 * processes, leaders, failovers, joins and profiles stay with the wrapped target.
 */
import { credentials, Metadata, type Client, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { etcdPackage } from '../../src/grpc/protocol.js';
import type { ClusterTarget, ReadConsistency } from './target.js';

/** Where a target's etcd gRPC API listens, and the password its Authenticate takes (null: no auth, as etcd by default). */
export interface EtcdGrpcAccess {
  readonly port: number;
  readonly password: string | null;
}

/** Longer than either server's request timeout (5 s), so that the server ends a stuck write, not us. */
const requestTimeoutMs = 10_000;
/**
 * grpc-js waits 1 s and more before it redials a killed node; a failover round restarts one and
 * then waits for it to serve, so a shorter backoff keeps the rounds as quick as in the default mode.
 */
const channelOptions = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000 };

type Callback = (error: ServiceError | null, response: unknown) => void;
type Unary = (request: unknown, metadata: Metadata, options: { deadline: number }, callback: Callback) => void;

interface Channel {
  readonly kv: Client & Record<'Put' | 'Range', Unary>;
  readonly auth: Client & Record<'Authenticate', Unary>;
  /** The metadata every KV call carries (the session token), once authenticated. */
  metadata: Promise<Metadata> | null;
}

function call(method: Unary, client: Client, request: unknown, metadata: Metadata): Promise<unknown> {
  return new Promise((resolve, reject) => {
    method.call(client, request, metadata, { deadline: Date.now() + requestTimeoutMs }, (error, response) => (error === null ? resolve(response) : reject(error)));
  });
}

export class EtcdClientTarget implements ClusterTarget {
  readonly name: string;
  readonly endpoints: readonly string[];
  private readonly channels: Channel[];

  constructor(
    private readonly inner: ClusterTarget,
    private readonly access: EtcdGrpcAccess,
  ) {
    this.name = inner.name;
    const KV = etcdPackage.KV as ServiceClientConstructor;
    const Auth = etcdPackage.Auth as ServiceClientConstructor;
    this.endpoints = inner.endpoints.map((endpoint) => `http://${new URL(endpoint).hostname}:${access.port}`);
    this.channels = this.endpoints.map((endpoint) => {
      const address = new URL(endpoint).host;
      // Clients made from loaded definitions have untyped methods; these are the ones used.
      return {
        kv: new KV(address, credentials.createInsecure(), channelOptions) as unknown as Channel['kv'],
        auth: new Auth(address, credentials.createInsecure(), channelOptions) as unknown as Channel['auth'],
        metadata: null,
      };
    });
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  async put(endpointIndex: number, key: string, value: Uint8Array): Promise<void> {
    const channel = this.channel(endpointIndex);
    await call(channel.kv.Put, channel.kv, { key: Buffer.from(key), value: Buffer.from(value) }, await this.metadata(channel));
  }

  async get(endpointIndex: number, key: string, consistency: ReadConsistency): Promise<void> {
    const channel = this.channel(endpointIndex);
    await call(channel.kv.Range, channel.kv, { key: Buffer.from(key), serializable: consistency === 'serializable' }, await this.metadata(channel));
  }

  leaderIndex(): Promise<number> {
    return this.inner.leaderIndex();
  }

  kill(nodeIndex: number): Promise<void> {
    return this.inner.kill(nodeIndex);
  }

  restart(nodeIndex: number): Promise<void> {
    return this.inner.restart(nodeIndex);
  }

  join(): Promise<number> {
    return this.inner.join();
  }

  removeJoined(): Promise<void> {
    return this.inner.removeJoined();
  }

  pids(): Promise<readonly number[]> {
    return this.inner.pids();
  }

  flushProfiles(): Promise<void> {
    return this.inner.flushProfiles();
  }

  async stop(): Promise<void> {
    for (const channel of this.channels) {
      channel.kv.close();
      channel.auth.close();
    }
    await this.inner.stop();
  }

  private channel(i: number): Channel {
    const channel = this.channels[i];
    if (channel === undefined) throw new RangeError(`no ${this.name} endpoint ${i}`);
    return channel;
  }

  /** Authenticates once per endpoint, as etcd clients do at connect; a failed attempt is retried by the next request. */
  private metadata(channel: Channel): Promise<Metadata> {
    const password = this.access.password;
    if (password === null) return Promise.resolve(new Metadata());
    if (channel.metadata !== null) return channel.metadata;
    const pending = call(channel.auth.Authenticate, channel.auth, { name: 'quorate', password }, new Metadata()).then((response) => {
      const metadata = new Metadata();
      metadata.set('token', (response as { token: string }).token);
      return metadata;
    });
    void pending.catch(() => {
      if (channel.metadata === pending) channel.metadata = null;
    });
    channel.metadata = pending;
    return pending;
  }
}
