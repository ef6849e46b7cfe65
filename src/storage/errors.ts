/**
 * Storage conditions an operator must act on. Every message names the file (and the offset,
 * for damaged data) and says what to do; none of them is ever swallowed.
 */
import { QuorateError } from '../util/errors.js';

export type StorageErrorCode = 'CorruptWal' | 'CorruptSnapshot' | 'CorruptHardState' | 'DataDirLocked' | 'InconsistentData';

export class StorageError extends QuorateError<StorageErrorCode> {
  constructor(code: StorageErrorCode, message: string) {
    super(code, message);
    this.name = 'StorageError';
  }
}

/** What an operator can do when a node's data cannot be trusted. */
export const corruptionAdvice =
  'The node refuses to start rather than serve wrong data. Restore the data directory from a backup, ' +
  'or remove this node from the cluster and let it rejoin with an empty data directory, copying the data from its peers.';
