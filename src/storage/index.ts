/** Durable storage: the WAL, hard state and snapshot files behind the LogStorage interface. */
export { DiskStorage } from './disk-storage.js';
export type { DiskStorageOptions } from './disk-storage.js';
export { StorageError } from './errors.js';
export type { StorageErrorCode } from './errors.js';
export type { WalStats } from './wal.js';
export type { StorageObserver } from './observer.js';
