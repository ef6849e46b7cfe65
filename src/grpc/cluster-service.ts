/**
 * etcdserverpb.Cluster mapped onto Quorate's membership. A member's etcd ID is the shared hash
 * of its node id (ids.ts) and its name is the node id; its peer URL is the mutual-TLS peer
 * listener and its client URL this API on the member's API host. Quorate's member changes keep
 * their own rules, which etcd's calls go through:
 *
 * - MemberAdd registers a server at the one peer URL given under the next free numeric node id
 *   (the name in its answer's member) and adds it as a learner at once, as etcd does; the node
 *   started there with that `node_id` and `status = 0` then joins as a member already known.
 *   Quorate promotes learners itself once they have caught up (keeping the voter count odd), so
 *   `isLearner = false` is accepted and the member still starts as a learner.
 * - MemberPromote promotes a learner now if it has caught up, with etcd's errors otherwise.
 * - MemberRemove removes through the leader; the leader itself is refused (run `quorate cluster
 *   leave` on it, which hands leadership over first).
 * - MemberUpdate is refused: a member's peer address is how peers know it (its certificate
 *   names it); remove the member and add it again instead.
 */
import { isIP } from 'node:net';
import { status, type Server, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { defaultGrpcPort, defaultPeerPort, formatHostPort, isLoopback, parseHostPort, type HostPort, type MemberStatus, type ServerConfig } from '../server/index.js';
import { isQuorateError } from '../util/errors.js';
import type { GrpcContext, ServiceRegistrar } from './context.js';
import { GrpcError } from './errors.js';
import { memberIdOf } from './ids.js';
import { etcdServices } from './protocol.js';
import type { MemberMessage, ResponseHeader } from './messages.js';

interface MembersResponse {
  readonly header: ResponseHeader;
  readonly members: readonly MemberMessage[];
}

interface MemberAddResponse extends MembersResponse {
  readonly member: MemberMessage;
}

/** etcd's membership errors (api/v3rpc/rpctypes), by the code Quorate's membership throws. */
const memberNotFound = (): GrpcError => new GrpcError(status.NOT_FOUND, 'etcdserver: member not found');
const membershipErrors: Readonly<Record<string, () => GrpcError>> = {
  not_found: memberNotFound,
  peer_exists: () => new GrpcError(status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'),
  not_learner: () => new GrpcError(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'),
  learner_not_ready: () => new GrpcError(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member which is in sync with leader'),
};
const badUrls = (): GrpcError => new GrpcError(status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid');

/**
 * A refusal of Quorate's own (the leader, the last voter, an id in use) keeps its message, which
 * says what to do, under FAILED_PRECONDITION; cluster failures (no quorum ...) pass through to
 * the context's mapping.
 */
function membershipFailure(error: unknown): unknown {
  if (!isQuorateError(error)) return error;
  const known = membershipErrors[error.code];
  if (known !== undefined) return known();
  if (['is_leader', 'last_voter', 'member_exists', 'bad_request'].includes(error.code)) return new GrpcError(status.FAILED_PRECONDITION, error.message);
  return error;
}

/**
 * Where a member serves this API: this node knows its own listener; the others are taken to
 * listen as it does (the same port, on their API host), as a cluster's nodes are set up alike.
 * Plaintext only where listen.ts allows it: --insecure-api on a loopback address.
 */
function clientUrl(member: MemberStatus, self: string, config: ServerConfig): string | null {
  if (member.arbiter || member.apiAddress === '') return null;
  const own = member.id === self ? config.grpc?.address : undefined;
  const address: HostPort = own ?? { host: parseHostPort(member.apiAddress, 'member API address').host, port: config.grpc?.address.port ?? defaultGrpcPort };
  const scheme = config.insecureApi && isLoopback(address.host) ? 'http' : 'https';
  return `${scheme}://${formatHostPort(address)}`;
}

function toMember(member: MemberStatus, clientUrl: string | null): MemberMessage {
  return {
    ID: memberIdOf(member.id),
    // etcd names a member once it has started; etcdctl shows a nameless one as "unstarted".
    name: !member.voter && member.lastContactMs === null ? '' : member.id,
    peerURLs: member.peerAddress === '' ? [] : [`https://${member.peerAddress}`],
    // An arbiter serves no client API.
    clientURLs: clientUrl === null ? [] : [clientUrl],
    isLearner: !member.voter,
  };
}

function members(context: GrpcContext): MemberMessage[] {
  const { id, config } = context.node();
  return context
    .service()
    .status()
    .members.map((member) => toMember(member, clientUrl(member, id, config)));
}

/** The node id of the member with etcd ID `id`, or etcd's not-found error. */
function nodeIdOf(context: GrpcContext, id: string): string {
  const found = context
    .service()
    .status()
    .members.find((member) => memberIdOf(member.id) === id);
  if (found === undefined) throw memberNotFound();
  return found.id;
}

/** The one peer URL etcd sends, as host:port; Quorate members have exactly one peer address. */
function peerAddressOf(urls: readonly string[]): string {
  const [text, ...more] = urls;
  if (text === undefined || more.length > 0) throw badUrls();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUrls();
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || isIP(host) === 0) throw badUrls();
  return formatHostPort({ host, port: url.port === '' ? defaultPeerPort : Number(url.port) });
}

async function changed<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    throw membershipFailure(error);
  }
}

function handlers(context: GrpcContext): UntypedServiceImplementation {
  return {
    // Without a token, as in etcd: `etcdctl endpoint health --cluster` (and `endpoint status
    // --cluster`) fetch the member list with a client that carries no credentials on purpose.
    MemberList: context.unary<unknown, MembersResponse>(null, () => Promise.resolve({ header: context.header(), members: members(context) })),
    MemberAdd: context.unary<{ peerURLs: string[] }, MemberAddResponse>('admin', async (request) => {
      const added = await changed(() => context.node().addMember(peerAddressOf(request.peerURLs)));
      const listed = members(context);
      // The answer names the node id to start the new node with; lists show it once it has started.
      const id = memberIdOf(added.id);
      const member = { ID: id, name: added.id, peerURLs: [`https://${added.peerAddress}`], clientURLs: [], isLearner: true };
      // Until this node applies the change, its list may lack the new member.
      return { header: context.header(), member, members: [...listed.filter((m) => m.ID !== id), member] };
    }),
    MemberPromote: context.unary<{ ID: string }, MembersResponse>('admin', async (request) => {
      await changed(() => context.node().promoteMember(nodeIdOf(context, request.ID)));
      return { header: context.header(), members: members(context).map((m) => (m.ID === request.ID ? { ...m, isLearner: false } : m)) };
    }),
    MemberRemove: context.unary<{ ID: string }, MembersResponse>('admin', async (request) => {
      await changed(() => context.service().removeMember(nodeIdOf(context, request.ID)));
      return { header: context.header(), members: members(context).filter((m) => m.ID !== request.ID) };
    }),
    MemberUpdate: context.unary<unknown, never>('admin', () =>
      Promise.reject(new GrpcError(status.UNIMPLEMENTED, "Quorate does not change a member's peer URL in place (peers know a member by its address and certificate): remove the member and add it again")),
    ),
  };
}

/** Adds etcdserverpb.Cluster to `server`. */
export const registerClusterService: ServiceRegistrar = (server: Server, context: GrpcContext) => {
  server.addService(etcdServices.cluster, handlers(context));
};
