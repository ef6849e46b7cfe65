/**
 * etcdserverpb.Lease on the node's leases: grants and revokes go through the log, keep-alives
 * and time-to-live are answered by the leader (which counts TTLs down; a follower forwards
 * them). As in etcd, asking about a lease that does not exist is not an error for these two:
 * a keep-alive answers TTL 0 and a time-to-live TTL -1, which is how clients learn that a
 * lease expired. Grants, revokes and keep-alives need role write, the rest read.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { leaseTtlSecondsMax, type KvFailure } from '../state/index.js';
import type { LeaseStatus } from '../server/index.js';
import type { GrpcContext, ServiceRegistrar } from './context.js';
import { etcdErrors, unwrap } from './errors.js';
import { int64 } from './int64.js';
import type { LeaseGrantRequestMessage, LeaseIdMessage, LeaseTimeToLiveRequestMessage, Long, ResponseHeader } from './messages.js';
import { etcdServices } from './protocol.js';

interface LeaseAnswer {
  readonly header: ResponseHeader;
  readonly ID: Long;
  readonly TTL: Long;
}

/** The lease, or null when it does not exist (any other failure is thrown). */
function existing(answer: LeaseStatus | KvFailure): LeaseStatus | null {
  return 'ok' in answer && answer.code === 'lease_not_found' ? null : unwrap(answer);
}

async function keepAlive(context: GrpcContext, id: number): Promise<LeaseAnswer> {
  const lease = existing(await context.service().leaseKeepAlive(id));
  return { header: context.header(), ID: id, TTL: lease?.grantedTtlSeconds ?? 0 };
}

/** One LeaseKeepAlive stream: requests are answered one at a time, in order. */
function serveKeepAlives(context: GrpcContext, call: ServerDuplexStream<LeaseIdMessage, LeaseAnswer>): void {
  let queue: Promise<void> = Promise.resolve();
  let ended = false;
  // A function, so that the check after an await reads the flag afresh rather than a narrowed copy.
  const isEnded = (): boolean => ended;
  const end = (): void => {
    ended = true;
  };
  call.on('cancelled', end);
  call.on('error', end);
  call.on('end', () => {
    void queue.then(() => {
      if (!isEnded() && !call.writableEnded) call.end();
      end();
    });
  });
  call.on('data', (request: LeaseIdMessage) => {
    queue = queue
      .then(async () => {
        if (isEnded()) return;
        const answer = await keepAlive(context, int64(request.ID, 'ID'));
        if (!isEnded()) call.write(answer);
      })
      .catch((error: unknown) => {
        if (isEnded()) return;
        end();
        call.emit('error', context.failure(error));
      });
  });
}

export const registerLeaseService: ServiceRegistrar = (server, context) => {
  server.addService(etcdServices.lease, {
    LeaseGrant: context.unary<LeaseGrantRequestMessage, LeaseAnswer & { error: string }>('write', async (message) => {
      const ttl = int64(message.TTL, 'TTL');
      if (ttl > leaseTtlSecondsMax) throw etcdErrors.leaseTtlTooLarge();
      // etcd raises a TTL below its minimum instead of refusing it; Quorate's minimum is 1 s.
      const granted = unwrap(await context.service().leaseGrant(Math.max(1, ttl), int64(message.ID, 'ID')));
      return { header: context.header(granted.revision), ID: granted.id, TTL: granted.ttlSeconds, error: '' };
    }),
    LeaseRevoke: context.unary<LeaseIdMessage, { header: ResponseHeader }>('write', async (message) => {
      const revoked = unwrap(await context.service().leaseRevoke(int64(message.ID, 'ID')));
      return { header: context.header(revoked.revision) };
    }),
    LeaseKeepAlive: (call: ServerDuplexStream<LeaseIdMessage, LeaseAnswer>) => {
      try {
        context.auth.check(call, 'write');
        serveKeepAlives(context, call);
      } catch (error) {
        call.emit('error', context.failure(error));
      }
    },
    LeaseTimeToLive: context.unary<LeaseTimeToLiveRequestMessage, LeaseAnswer & { grantedTTL: Long; keys: Uint8Array[] }>('read', async (message) => {
      const id = int64(message.ID, 'ID');
      const lease = existing(await context.service().leaseTimeToLive(id));
      if (lease === null) return { header: context.header(), ID: id, TTL: -1, grantedTTL: 0, keys: [] };
      return { header: context.header(), ID: id, TTL: lease.ttlSeconds, grantedTTL: lease.grantedTtlSeconds, keys: message.keys ? [...lease.keys] : [] };
    }),
    LeaseLeases: context.unary<object, { header: ResponseHeader; leases: { ID: number }[] }>('read', async () => {
      const ids = await context.service().leaseIds();
      return { header: context.header(), leases: ids.map((ID) => ({ ID })) };
    }),
  });
};
