/** A stored key-value as etcd's mvccpb.KeyValue (the KV, Txn and Watch answers all carry them). */
import type { KeyValue } from '../state/index.js';
import type { KeyValueMessage } from './messages.js';

export function keyValueMessage(kv: KeyValue): KeyValueMessage {
  return { key: kv.key, value: kv.value, create_revision: kv.createRevision, mod_revision: kv.modRevision, version: kv.version, lease: kv.lease };
}
