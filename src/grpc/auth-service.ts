/**
 * etcdserverpb.Auth: only Authenticate, which trades a Quorate token (the password) for itself
 * as the etcd session token (auth.ts). Users and roles are Quorate's API tokens, managed with
 * `quorate acl`, so the other Auth methods are not offered and answer UNIMPLEMENTED.
 */
import type { handleUnaryCall } from '@grpc/grpc-js';
import type { ServiceRegistrar } from './context.js';
import type { AuthenticateRequestMessage, ResponseHeader } from './messages.js';
import { etcdServices } from './protocol.js';

export const registerAuthService: ServiceRegistrar = (server, context) => {
  const Authenticate: handleUnaryCall<AuthenticateRequestMessage, { header: ResponseHeader; token: string }> = (call, callback) => {
    try {
      const token = context.auth.login(call, call.request.password);
      callback(null, { header: context.header(), token });
    } catch (error) {
      callback(context.failure(error));
    }
  };
  server.addService(etcdServices.auth, { Authenticate });
};
