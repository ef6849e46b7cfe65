/**
 * Plain-text rendering for the `quorate` command. Text keys and values print as they are;
 * bytes that are not UTF-8 print as "base64:..." so a terminal never receives raw binary
 * (except `kv get KEY`, which writes the value's bytes unchanged, for pipes and files).
 */
import { toBase64, utf8OrNull } from '../api/index.js';
import type { KeyValue, WatchEvent } from '../client/index.js';

export function displayBytes(bytes: Uint8Array): string {
  return utf8OrNull(bytes) ?? `base64:${toBase64(bytes)}`;
}

/** etcdctl's layout: the key on one line, its value on the next. */
export function formatKvs(kvs: readonly KeyValue[]): string {
  return kvs.map((kv) => `${displayBytes(kv.key)}\n${displayBytes(kv.value)}\n`).join('');
}

export function formatEvent(event: WatchEvent): string {
  const key = displayBytes(event.kv.key);
  return event.type === 'put' ? `PUT ${key} = ${displayBytes(event.kv.value)} (revision ${event.revision})\n` : `DELETE ${key} (revision ${event.revision})\n`;
}
