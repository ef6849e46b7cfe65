/**
 * Making one node the only voter of its cluster by rewriting its (stopped) Raft state: the
 * state machine replayed from its snapshot and log becomes a new snapshot whose configuration
 * is that node alone, and the other members are forgotten. `quorate cluster recover` does it
 * by hand after a majority is lost for good (keeping only what is known committed); a
 * two-node survivor does it after fencing its peer (keeping its whole log: with two voters
 * every committed entry is on both, and the peer is off). Like etcd's --force-new-cluster.
 */
import type { PersistedState } from '../node/index.js';
import { applyConfChange, type ConfState } from '../raft/index.js';
import { ClusterStateMachine } from '../state/index.js';
import type { DiskStorage } from '../storage/index.js';
import { QuorateError } from '../util/errors.js';

export interface ReplayedState {
  readonly state: ClusterStateMachine;
  /** The configuration of the last kept entry. */
  readonly conf: ConfState;
  readonly index: number;
  readonly term: number;
  /** Log entries not kept (after the commit index, when only committed ones are kept). */
  readonly dropped: number;
}

/** The state as of the commit index, or as of the last entry in the log. */
export function replay(persisted: PersistedState, upTo: 'commit' | 'last', where: string): ReplayedState {
  if (persisted.snapshot === null) throw new QuorateError('no_raft_state', `${where} holds no Raft state to recover from`);
  const state = new ClusterStateMachine();
  state.restore(persisted.snapshot.data);
  let conf = persisted.snapshot.meta.conf;
  let index = persisted.snapshot.meta.index;
  let term = persisted.snapshot.meta.term;
  const last = upTo === 'commit' ? persisted.hardState.commit : Infinity;
  for (const entry of persisted.entries) {
    if (entry.index > last) break;
    state.apply(entry);
    if (entry.type === 'conf') conf = applyConfChange(conf, entry.change);
    index = entry.index;
    term = entry.term;
  }
  return { state, conf, index, term, dropped: persisted.entries.filter((e) => e.index > index).length };
}

/** Saves `replayed` as the node's state with `self` the only voter and the only member. */
export async function saveAsSoleVoter(storage: DiskStorage, persisted: PersistedState, replayed: ReplayedState, self: string): Promise<void> {
  const member = replayed.state.members.get(self);
  if (member === undefined) throw new QuorateError('no_raft_state', `the member registry has no addresses for ${self}`);
  replayed.state.members.replace([member]);
  const snapshot = { meta: { index: replayed.index, term: replayed.term, conf: { voters: [self], learners: [] } }, data: replayed.state.snapshot() };
  await storage.save({ hardState: { term: persisted.hardState.term, vote: null, commit: replayed.index }, entries: [], snapshot, sync: true });
}
