/**
 * QuorateClient: the typed client of the HTTP API (api/wire.ts describes the JSON), for the
 * CLI, the tests and library users. Failures are QuorateClientErrors carrying the API's code
 * and message; which endpoint answers, and when another is tried, is transport.ts's business.
 */
import type {
  AdmittedJson,
  AclTokenJson,
  CaRotationJson,
  ClusterEventJson,
  ClusterStatusJson,
  EventsJson,
  FenceResultJson,
  FencingJson,
  HealthJson,
  JobStatusJson,
  JobSubmittedJson,
  JobSummaryJson,
  JoinRequestJson,
  JoinTokenJson,
  NodeViewJson,
  StatusJson,
} from '../api/index.js';
import { answerJson, arrayField, bodyJson, bytesField, keyValue, kvList, numberField, txnOpResult } from './decode.js';
import { percentEncode, queryString, toBytes, txnJson, type QueryValue } from './encode.js';
import { QuorateClientError } from './errors.js';
import { clusterEvent, followEvents, type EventStreamOptions } from './events.js';
import { readLogs } from './logs.js';
import { Endpoints, parseEndpoint, type ConnectOptions, type HttpCall } from './transport.js';
import type {
  Bytes,
  DeleteResult,
  FencingConfig,
  GetOptions,
  JobSpec,
  KeyValue,
  KvList,
  LeaseGrant,
  LeaseRevoke,
  LeaseState,
  LeaseWithKeys,
  ListOptions,
  LogOptions,
  PutOptions,
  TxnInput,
  TxnResult,
  WatchTarget,
  WriteResult,
} from './types.js';
import { WatchStream, type WatchOptions } from './watch.js';

export interface QuorateClientOptions {
  /** API base URLs such as https://10.0.0.1:8080, tried in order when one is unreachable. */
  readonly endpoints: readonly string[];
  /** How long one request may take, across endpoints; a write that times out may still happen. */
  readonly requestTimeoutMs?: number;
  /** How long to wait for one endpoint to accept a connection before trying the next. */
  readonly connectTimeoutMs?: number;
  /** The cluster CA (PEM) for https:// endpoints (tls/ca.crt in a node's data directory). */
  readonly ca?: string;
  /** A credential sent with every request (the admin token from a node's data directory). */
  readonly token?: string;
}

const defaultRequestTimeoutMs = 15_000;
const defaultConnectTimeoutMs = 3_000;

type Json = Readonly<Record<string, unknown>>;

function kvPath(key: Bytes, query: Readonly<Record<string, QueryValue>> = {}): string {
  return `/v1/kv/${percentEncode(key)}${queryString(query)}`;
}

function leaseState(json: Json): LeaseState {
  return { id: numberField(json, 'id'), ttl: numberField(json, 'ttl'), grantedTtl: numberField(json, 'grantedTtl'), revision: numberField(json, 'revision') };
}

export class QuorateClient {
  private readonly endpoints: Endpoints;
  /** Kept for the nodes asked directly (allocation logs), with the same CA and token. */
  private readonly connect: ConnectOptions;
  private readonly secure: boolean;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: QuorateClientOptions) {
    if (options.endpoints.length === 0) throw new QuorateClientError('bad_endpoint', 'no endpoints given');
    this.connect = {
      connectTimeoutMs: options.connectTimeoutMs ?? defaultConnectTimeoutMs,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.token === undefined ? {} : { token: options.token }),
    };
    const endpoints = options.endpoints.map(parseEndpoint);
    this.endpoints = new Endpoints(endpoints, this.connect);
    this.secure = endpoints[0]?.secure === true;
    this.requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  }

  async put(key: Bytes, value: Bytes, options: PutOptions = {}): Promise<WriteResult> {
    const json = await this.call({ method: 'PUT', path: kvPath(key, { lease: options.lease, prevModRevision: options.prevModRevision }), body: toBytes(value) });
    return { revision: numberField(json, 'revision') };
  }

  /** The key, or null when it does not exist. */
  async get(key: Bytes, options: GetOptions = {}): Promise<KeyValue | null> {
    try {
      return keyValue(await this.call({ method: 'GET', path: kvPath(key, { ...options }) }));
    } catch (error) {
      if (error instanceof QuorateClientError && error.code === 'key_not_found') return null;
      throw error;
    }
  }

  /** Every key starting with `prefix` ("" for all keys), in key order. */
  async list(prefix: Bytes, options: ListOptions = {}): Promise<KvList> {
    return kvList(await this.call({ method: 'GET', path: `/v1/kv${queryString({ prefix, ...options })}` }));
  }

  async delete(key: Bytes, options: { readonly prefix?: boolean } = {}): Promise<DeleteResult> {
    const json = await this.call({ method: 'DELETE', path: kvPath(key, { prefix: options.prefix }) });
    return { deleted: numberField(json, 'deleted'), revision: numberField(json, 'revision') };
  }

  async txn(txn: TxnInput): Promise<TxnResult> {
    const json = await this.call({ method: 'POST', path: '/v1/txn', body: JSON.stringify(txnJson(txn)) });
    return { succeeded: json.succeeded === true, revision: numberField(json, 'revision'), responses: arrayField(json, 'responses').map(txnOpResult) };
  }

  /** A new lease of `ttl` seconds; the leader picks the id unless one is given. */
  async leaseGrant(ttl: number, options: { readonly id?: number } = {}): Promise<LeaseGrant> {
    const json = await this.call({ method: 'POST', path: '/v1/lease', body: JSON.stringify({ ttl, ...options }) });
    return { id: numberField(json, 'id'), ttl: numberField(json, 'ttl'), revision: numberField(json, 'revision') };
  }

  /** Ends the lease and deletes every key attached to it. */
  async leaseRevoke(id: number): Promise<LeaseRevoke> {
    const json = await this.call({ method: 'DELETE', path: `/v1/lease/${id}` });
    return { id: numberField(json, 'id'), deleted: numberField(json, 'deleted'), revision: numberField(json, 'revision') };
  }

  async leaseKeepAlive(id: number): Promise<LeaseState> {
    return leaseState(await this.call({ method: 'POST', path: `/v1/lease/${id}/keepalive` }));
  }

  async leaseTimeToLive(id: number): Promise<LeaseWithKeys> {
    const json = await this.call({ method: 'GET', path: `/v1/lease/${id}` });
    return { ...leaseState(json), keys: arrayField(json, 'keys').map((key) => bytesField(key, 'key')) };
  }

  /**
   * Events on one key or a prefix, from revision `from` (default: changes after now), as an
   * async iterator; close() ends it. A broken stream resumes on another endpoint without
   * missing or repeating an event.
   */
  watch(target: WatchTarget, options: WatchOptions = {}): WatchStream {
    return new WatchStream(this.endpoints, target, options);
  }

  async status(): Promise<StatusJson> {
    return (await this.call({ method: 'GET', path: '/v1/status' })) as unknown as StatusJson;
  }

  /** The whole cluster as the answering node gathers it: every member's report, quorum, warnings. */
  async clusterStatus(): Promise<ClusterStatusJson> {
    return (await this.call({ method: 'GET', path: '/v1/cluster/status' })) as unknown as ClusterStatusJson;
  }

  /** A join token (admin): the token text is shown once, here, and never stored by the cluster. */
  async createJoinToken(role: 'server' | 'worker', ttlSeconds: number): Promise<JoinTokenJson & { readonly token: string }> {
    return (await this.call({ method: 'POST', path: '/v1/cluster/join-tokens', body: JSON.stringify({ role, ttlSeconds }) })) as unknown as JoinTokenJson & { readonly token: string };
  }

  async listJoinTokens(): Promise<readonly JoinTokenJson[]> {
    return arrayField(await this.call({ method: 'GET', path: '/v1/cluster/join-tokens' }), 'tokens') as unknown as JoinTokenJson[];
  }

  async revokeJoinToken(id: string): Promise<JoinTokenJson> {
    return (await this.call({ method: 'DELETE', path: `/v1/cluster/join-tokens/${encodeURIComponent(id)}` })) as unknown as JoinTokenJson;
  }

  /** `quorate acl token create`: the token text is in the answer only. */
  async createAclToken(role: AclTokenJson['role'], prefix?: string): Promise<AclTokenJson & { readonly token: string }> {
    return (await this.call({ method: 'POST', path: '/v1/acl/tokens', body: JSON.stringify({ role, ...(prefix === undefined ? {} : { prefix }) }) })) as unknown as AclTokenJson & { readonly token: string };
  }

  async listAclTokens(): Promise<readonly AclTokenJson[]> {
    return arrayField(await this.call({ method: 'GET', path: '/v1/acl/tokens' }), 'tokens') as unknown as AclTokenJson[];
  }

  async revokeAclToken(id: string): Promise<AclTokenJson> {
    return (await this.call({ method: 'DELETE', path: `/v1/acl/tokens/${encodeURIComponent(id)}` })) as unknown as AclTokenJson;
  }

  /** Asks to be admitted with a join token's id and secret; answers the new node's credentials. */
  async join(request: JoinRequestJson): Promise<AdmittedJson> {
    return (await this.call({ method: 'POST', path: '/v1/cluster/join', body: JSON.stringify(request) })) as unknown as AdmittedJson;
  }

  /** A backup file of the replicated state as of a linearizable read (admin). */
  async snapshot(): Promise<Uint8Array> {
    const answer = await this.endpoints.send({ method: 'GET', path: '/v1/snapshot' }, this.requestTimeoutMs);
    if (answer.status !== 200) answerJson(answer);
    return new Uint8Array(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
  }

  /** Removes a member through the log (admin); the leader itself leaves with leave(). */
  /** Attach an arbiter process (`quorate cluster arbiter add`); `fingerprint` pins its certificate. */
  async addArbiter(address: string, fingerprint?: string): Promise<{ readonly nodeId: string; readonly address: string; readonly fingerprint: string }> {
    const body = await this.call({ method: 'POST', path: '/v1/cluster/arbiters', body: JSON.stringify({ address, ...(fingerprint === undefined ? {} : { fingerprint }) }) });
    return body as unknown as { readonly nodeId: string; readonly address: string; readonly fingerprint: string };
  }

  /**
   * The same client trusting another CA bundle: how a long-lived client follows a CA rotation
   * (the rotation's `caPem`, learned over a connection the old CA verified).
   */
  trusting(ca: string): QuorateClient {
    return new QuorateClient({ ...this.options, ca });
  }

  /** Begin a CA rotation (admin); the leader carries it through its steps on its own. */
  async rotateCa(): Promise<CaRotationJson> {
    return (await this.call({ method: 'POST', path: '/v1/cluster/ca/rotation' })) as unknown as CaRotationJson;
  }

  /** Where a CA rotation is, and whom its next step waits for (admin). */
  async caRotation(): Promise<CaRotationJson> {
    return (await this.call({ method: 'GET', path: '/v1/cluster/ca/rotation' })) as unknown as CaRotationJson;
  }

  async removeMember(id: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/v1/cluster/members/${encodeURIComponent(id)}` });
  }

  /** The answering node hands leadership over if it leads and removes itself (admin). */
  async leave(): Promise<string> {
    const json = await this.call({ method: 'POST', path: '/v1/cluster/leave' });
    return typeof json.left === 'string' ? json.left : '';
  }

  /** Submits a job (admin); a changed spec gets the next version, an unchanged one keeps its version. */
  async runJob(spec: JobSpec): Promise<JobSubmittedJson> {
    return (await this.call({ method: 'POST', path: '/v1/jobs', body: JSON.stringify(spec) })) as unknown as JobSubmittedJson;
  }

  async listJobs(): Promise<readonly JobSummaryJson[]> {
    return arrayField(await this.call({ method: 'GET', path: '/v1/jobs' }), 'jobs') as unknown as JobSummaryJson[];
  }

  /** The job, its allocations and the copies that cannot be placed; not_found for an unknown job. */
  async jobStatus(name: string): Promise<JobStatusJson> {
    return (await this.call({ method: 'GET', path: `/v1/jobs/${encodeURIComponent(name)}` })) as unknown as JobStatusJson;
  }

  /** Stops every copy of the job (admin); the job stays listed as stopped. */
  async stopJob(name: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/v1/jobs/${encodeURIComponent(name)}` });
  }

  /** Every node that may run jobs, with its free memory and job count as the leader last heard. */
  async nodes(): Promise<readonly NodeViewJson[]> {
    return arrayField(await this.call({ method: 'GET', path: '/v1/nodes' }), 'nodes') as unknown as NodeViewJson[];
  }

  /** The fencing configuration and the newest fencing attempts. */
  async fencing(): Promise<FencingJson> {
    return (await this.call({ method: 'GET', path: '/v1/fencing' })) as unknown as FencingJson;
  }

  /** Replace the fencing configuration (admin). */
  async configureFencing(config: FencingConfig): Promise<void> {
    await this.call({ method: 'PUT', path: '/v1/fencing', body: JSON.stringify(config) });
  }

  /** Run the fence devices against a node now (admin); when it is fenced its jobs are replaced. */
  async fenceNode(id: string): Promise<FenceResultJson> {
    return (await this.call({ method: 'POST', path: `/v1/nodes/${encodeURIComponent(id)}/fence` })) as unknown as FenceResultJson;
  }

  /** An operator vouches that a lost node is off (admin): everything it ran is replaced. */
  async confirmDead(id: string): Promise<void> {
    await this.call({ method: 'POST', path: `/v1/nodes/${encodeURIComponent(id)}/confirm-dead` });
  }

  /** Draining moves the node's allocations away one at a time (admin). */
  async drainNode(id: string, enable: boolean): Promise<void> {
    await this.call({ method: 'POST', path: `/v1/nodes/${encodeURIComponent(id)}/drain`, body: JSON.stringify({ enable }) });
  }

  /** An ineligible node gets no new allocations and keeps the ones it runs (admin). */
  async setNodeEligibility(id: string, eligible: boolean): Promise<void> {
    await this.call({ method: 'POST', path: `/v1/nodes/${encodeURIComponent(id)}/eligibility`, body: JSON.stringify({ eligible }) });
  }

  /**
   * An allocation's output as text chunks (admin), from the node that runs it. `node` is that
   * node's apiAddress as nodes() lists it (host:port), asked with the scheme of this client's
   * endpoints: a cluster's nodes all serve HTTPS, or all plain HTTP when configured by TOML.
   * A full URL is taken as it is. Break out of the loop or abort `options.signal` to stop;
   * with `follow` only that ends a quiet stream.
   */
  allocationLogs(node: string, allocationId: string, options: LogOptions = {}): AsyncIterable<string> {
    const url = node.includes('://') ? node : `${this.secure ? 'https' : 'http'}://${node}`;
    return readLogs(new Endpoints([parseEndpoint(url)], this.connect), allocationId, options, this.requestTimeoutMs);
  }

  /** The answering node's buffered cluster events with seq >= `from` (0: all), and the seq to ask from next. */
  async events(from = 0): Promise<EventsJson> {
    const json = await this.call({ method: 'GET', path: `/v1/events${queryString({ from })}` });
    return { events: arrayField(json, 'events').map(clusterEvent), next: numberField(json, 'next') };
  }

  /**
   * The answering node's cluster events from `options.from` on, then each new one as it
   * happens; the stream stays on that node (events are numbered per node). Abort
   * `options.signal` or break out of the loop to stop.
   */
  followEvents(options: EventStreamOptions = {}): AsyncIterable<ClusterEventJson> {
    return followEvents(this.endpoints, options, this.requestTimeoutMs);
  }

  /** The node's health; an unhealthy node's answer (HTTP 503 with a code and message) is returned, not thrown. */
  async health(): Promise<HealthJson & { readonly code?: string; readonly message?: string }> {
    const answer = await this.endpoints.send({ method: 'GET', path: '/v1/health' }, this.requestTimeoutMs);
    if (answer.status === 503) {
      const json = bodyJson(answer);
      if (json.healthy === false) return json as unknown as HealthJson;
    }
    return answerJson(answer) as unknown as HealthJson;
  }

  private async call(call: HttpCall): Promise<Json> {
    return answerJson(await this.endpoints.send(call, this.requestTimeoutMs));
  }
}
