/**
 * How a node with an empty data directory enters the cluster. A founding member (a voter of
 * the initial configuration, seed 002's role 0-2 with status 2, or a library node's peers)
 * writes the same bootstrap state as every other founder, so their logs agree from index 1
 * and any majority of them can elect a leader, in any boot order. Any other node starts empty
 * and joins through an existing member as a learner.
 *
 * Library peers are given by address only (seed 001); their ids are asked with a hello before
 * bootstrapping. A peer that already belongs to a formed cluster without us means the cluster
 * exists and this node is a late arrival (seed 001 section 9): it joins instead.
 */
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { deriveAdminToken } from '../cluster/admin-token.js';
import { secretHash } from '../cluster/join-token.js';
import { bootstrapState, emptyState, type PersistedState } from '../node/index.js';
import type { ConfState } from '../raft/index.js';
import { ClusterStateMachine, type Member } from '../state/index.js';
import { DiskStorage } from '../storage/index.js';
import { assert } from '../util/assert.js';
import { QuorateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { ServerConfig } from './config.js';

export interface Hello {
  readonly id: string;
  /** Whether the node holds a log, i.e. belongs to a formed cluster. */
  readonly bootstrapped: boolean;
  /** Voters and learners of its configuration. */
  readonly members: readonly string[];
}

const helloRetryMs = 200;

/** What this node tells a peer that asks: a node belongs to a formed cluster once it has voters. */
export function helloFrom(id: string, conf: ConfState | undefined): Hello {
  return { id, bootstrapped: conf !== undefined && conf.voters.length > 0, members: conf === undefined ? [] : [...conf.voters, ...conf.learners] };
}

export function isFresh(persisted: PersistedState): boolean {
  return persisted.snapshot === null && persisted.entries.length === 0 && persisted.hardState.term === 0;
}

export async function initialState(config: ServerConfig, hello: (address: string) => Promise<Hello>, log: Logger): Promise<PersistedState> {
  const self = config.initialCluster.find((m) => m.id === config.nodeId);
  assert(self !== undefined, 'the config lists this node (checked when it was parsed)');
  if (!self.bootstrap) return emptyState;
  const founders = config.initialCluster.filter((m) => m.bootstrap);
  const ids = new Map<string, string>();
  for (const m of founders) if (m.id !== null) ids.set(m.peerAddress, m.id);
  // Even with every id in the config, a majority of founders must answer before this node
  // founds anything: an empty data directory may belong to a node that was removed from the
  // formed cluster (and wiped to come back), which must join, not found the old configuration
  // again on its own.
  const answered = new Set([self.peerAddress]);
  const majority = Math.floor(founders.length / 2) + 1;
  const enough = (): boolean => ids.size === founders.length && answered.size >= majority;
  while (!enough()) {
    for (const m of founders) {
      if (answered.has(m.peerAddress)) continue;
      try {
        const answer = await hello(m.peerAddress);
        if (answer.bootstrapped && !answer.members.includes(config.nodeId)) {
          log.log('info', 'a peer belongs to a formed cluster; joining it as a learner', { peer: m.peerAddress });
          return emptyState;
        }
        ids.set(m.peerAddress, answer.id);
        answered.add(m.peerAddress);
      } catch {
        // Not up yet: boot order does not matter, so keep asking.
      }
    }
    if (!enough()) await sleep(helloRetryMs);
  }
  const members: Member[] = founders.map((m) => ({ id: ids.get(m.peerAddress) ?? '', peerAddress: m.peerAddress, apiAddress: m.apiAddress }));
  return bootstrapState(
    members.map((m) => m.id),
    registryWith(members, staticAdminTokenHash(config)),
  );
}

/** A cluster configured with a shared secret has the admin token derived from it (admin-token.ts); one with [tls] files has none. */
function staticAdminTokenHash(config: ServerConfig): string | null {
  return config.tls.kind === 'secret' ? secretHash(deriveAdminToken(config.tls.secret, config.clusterName)) : null;
}

/**
 * `cluster init` (and `cluster restore`, which starts from a backup's KV): the one-voter bootstrap state, written when the node is created rather than
 * when its server first starts. `quorate server --data-dir` never bootstraps, so a node whose
 * log is later lost refuses to start instead of quietly founding a second cluster.
 */
export async function writeFounderState(config: ServerConfig, adminTokenHash: string, restored?: Uint8Array): Promise<void> {
  const [self, ...others] = config.initialCluster;
  assert(self !== undefined && others.length === 0 && self.id === config.nodeId && self.bootstrap, 'cluster init founds a one-voter cluster');
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const storage = await DiskStorage.open({ dir: config.dataDir });
  try {
    if (!isFresh(await storage.load())) throw new QuorateError('already_initialized', `${config.dataDir} already holds a Raft log`);
    const initial = bootstrapState([config.nodeId], registryWith([{ id: config.nodeId, peerAddress: self.peerAddress, apiAddress: self.apiAddress }], adminTokenHash, restored));
    await storage.save({ hardState: initial.hardState, entries: [], snapshot: initial.snapshot, sync: true });
  } finally {
    await storage.close();
  }
}

/** The snapshot of an empty state whose registry holds the founders' addresses (and, from `cluster init`, the admin token's hash). */
function registryWith(members: readonly Member[], adminTokenHash: string | null = null, restored?: Uint8Array): Uint8Array {
  const state = new ClusterStateMachine();
  // A restored cluster keeps the KV (with its revisions) but none of the old members or tokens.
  if (restored !== undefined) state.restore(restored);
  state.members.replace(members);
  state.credentials.replace({ adminTokenHash, tokens: [] });
  return state.snapshot();
}
