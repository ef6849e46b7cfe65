/**
 * The JavaScript shapes of the etcd messages as protocol.ts loads them: snake_case fields,
 * 64-bit integers as decimal strings on the way in (numbers or strings are accepted on the way
 * out), bytes as Buffers, enums by name, and every absent field filled with its default.
 * Requests list what the handlers read; responses what they write.
 */

/** int64/uint64 as the encoder accepts them. */
export type Long = string | number;

export interface ResponseHeader {
  readonly cluster_id: Long;
  readonly member_id: Long;
  readonly revision: Long;
  readonly raft_term: Long;
}

export interface KeyValueMessage {
  readonly key: Uint8Array;
  readonly create_revision: Long;
  readonly mod_revision: Long;
  readonly version: Long;
  readonly value: Uint8Array;
  readonly lease: Long;
}

export interface EventMessage {
  readonly type: 'PUT' | 'DELETE';
  readonly kv: KeyValueMessage;
  readonly prev_kv?: KeyValueMessage;
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

export interface RangeRequestMessage {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly limit: string;
  readonly revision: string;
  readonly sort_order: SortOrder;
  readonly sort_target: SortTarget;
  readonly serializable: boolean;
  readonly keys_only: boolean;
  readonly count_only: boolean;
  readonly min_mod_revision: string;
  readonly max_mod_revision: string;
  readonly min_create_revision: string;
  readonly max_create_revision: string;
}

export interface RangeResponseMessage {
  readonly header?: ResponseHeader;
  readonly kvs: readonly KeyValueMessage[];
  readonly more: boolean;
  readonly count: Long;
}

export interface PutRequestMessage {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly lease: string;
  readonly prev_kv: boolean;
  readonly ignore_value: boolean;
  readonly ignore_lease: boolean;
}

export interface PutResponseMessage {
  readonly header?: ResponseHeader;
  readonly prev_kv?: KeyValueMessage;
}

export interface DeleteRangeRequestMessage {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly prev_kv: boolean;
}

export interface DeleteRangeResponseMessage {
  readonly header?: ResponseHeader;
  readonly deleted: Long;
  readonly prev_kvs: readonly KeyValueMessage[];
}

export interface RequestOpMessage {
  readonly request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn';
  readonly request_range?: RangeRequestMessage | null;
  readonly request_put?: PutRequestMessage | null;
  readonly request_delete_range?: DeleteRangeRequestMessage | null;
  readonly request_txn?: TxnRequestMessage | null;
}

export type ResponseOpMessage =
  | { readonly response_range: RangeResponseMessage }
  | { readonly response_put: PutResponseMessage }
  | { readonly response_delete_range: DeleteRangeResponseMessage }
  | { readonly response_txn: TxnResponseMessage };

export interface CompareMessage {
  readonly result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
  readonly target: 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';
  readonly key: Buffer;
  readonly target_union?: 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease';
  readonly version?: string;
  readonly create_revision?: string;
  readonly mod_revision?: string;
  readonly value?: Buffer;
  readonly lease?: string;
  readonly range_end: Buffer;
}

export interface TxnRequestMessage {
  readonly compare: readonly CompareMessage[];
  readonly success: readonly RequestOpMessage[];
  readonly failure: readonly RequestOpMessage[];
}

export interface TxnResponseMessage {
  readonly header?: ResponseHeader;
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOpMessage[];
}

export interface CompactionRequestMessage {
  readonly revision: string;
  readonly physical: boolean;
}

export interface WatchCreateRequestMessage {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly start_revision: string;
  readonly progress_notify: boolean;
  readonly filters: readonly ('NOPUT' | 'NODELETE')[];
  readonly prev_kv: boolean;
  readonly watch_id: string;
  readonly fragment: boolean;
}

export interface WatchRequestMessage {
  readonly request_union?: 'create_request' | 'cancel_request' | 'progress_request';
  readonly create_request?: WatchCreateRequestMessage | null;
  readonly cancel_request?: { readonly watch_id: string } | null;
}

export interface WatchResponseMessage {
  readonly header: ResponseHeader;
  readonly watch_id: Long;
  readonly created?: boolean;
  readonly canceled?: boolean;
  readonly compact_revision?: Long;
  readonly cancel_reason?: string;
  readonly events?: readonly EventMessage[];
}

export interface LeaseGrantRequestMessage {
  readonly TTL: string;
  readonly ID: string;
}

export interface LeaseIdMessage {
  readonly ID: string;
}

export interface LeaseTimeToLiveRequestMessage {
  readonly ID: string;
  readonly keys: boolean;
}

export interface MemberMessage {
  readonly ID: Long;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface AuthenticateRequestMessage {
  readonly name: string;
  readonly password: string;
}
