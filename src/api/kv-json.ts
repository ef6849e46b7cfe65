/** The state machine's results as the API's JSON (wire.ts). */
import type { KeyValue, RangeResponse, TxnOpResponse, TxnResponse } from '../state/index.js';
import { AssertionError } from '../util/assert.js';
import { bytesJson } from './json-bytes.js';
import type { KeyValueJson, ListJson, TxnJson, TxnOpResultJson } from './wire.js';

export function keyValueJson(kv: KeyValue): KeyValueJson {
  return {
    ...bytesJson('key', kv.key),
    ...bytesJson('value', kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

export function listJson(response: RangeResponse): ListJson {
  return { kvs: response.kvs.map(keyValueJson), count: response.count, more: response.more, revision: response.revision };
}

function txnOpResultJson(response: TxnOpResponse): TxnOpResultJson {
  switch (response.kind) {
    case 'put':
      return { op: 'put', revision: response.revision };
    case 'deleteRange':
      return { op: 'delete', deleted: response.deleted, revision: response.revision };
    case 'range':
      return { op: 'get', ...listJson(response) };
    case 'txn':
      throw new AssertionError('the HTTP API makes no nested transactions (only the etcd API does)');
  }
}

export function txnJson(response: TxnResponse): TxnJson {
  return { succeeded: response.succeeded, revision: response.revision, responses: response.responses.map(txnOpResultJson) };
}
