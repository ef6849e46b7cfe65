/**
 * Raft's safety properties (Figure 3 of the paper), checked continuously during a simulation:
 *
 * - Election Safety: at most one leader per term.
 * - Log Matching: an entry identified by (index, term) has the same content everywhere, and the
 *   same term before it; by induction, two logs agreeing on an entry agree on all before it.
 * - Leader Completeness: a new leader's log holds every entry known to be committed.
 * - State Machine Safety: no two nodes apply different entries at one index, every node applies
 *   indexes in order, and an entry once known committed never changes (across crashes).
 *
 * A violation is recorded with the time and the nodes involved; the run fails on the first one.
 */
import type { Entry, NodeId, Raft, Snapshot } from '../../raft/index.js';

const decoder = new TextDecoder();

interface EntryIdentity {
  readonly term: number;
  readonly content: string;
}

export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>();
  /** index -> the committed entry there, learned from commit indexes and applies. */
  private readonly committed = new Map<number, EntryIdentity>();
  private readonly appliedThrough = new Map<NodeId, number>();
  private readonly commitRecorded = new Map<NodeId, number>();
  /** "index/term" -> content and the term before it (Log Matching). */
  private readonly identities = new Map<string, string>();
  private readonly contentCache = new WeakMap<Entry, string>();
  readonly violations: string[] = [];

  constructor(private readonly now: () => number) {}

  private violation(text: string): void {
    this.violations.push(`t=${this.now().toFixed(1)}ms: ${text}`);
  }

  /** A node became leader of `term`: one leader per term, and its log is complete. */
  leaderElected(id: NodeId, term: number, core: Raft): void {
    const previous = this.leaders.get(term);
    if (previous !== undefined && previous !== id) this.violation(`election safety: ${previous} and ${id} both leader in term ${term}`);
    this.leaders.set(term, id);
    const first = core.firstIndex();
    for (const [index, identity] of this.committed) {
      if (index < first) continue;
      const term = core.termAt(index);
      if (term !== identity.term) this.violation(`leader completeness: new leader ${id} has term ${String(term)} at committed index ${index} (committed term ${identity.term})`);
    }
  }

  /** The node's commit index reached `commit` (durably or not): record what it committed. */
  commitAdvanced(id: NodeId, commit: number, core: Raft): void {
    const from = Math.max(this.commitRecorded.get(id) ?? 0, core.firstIndex() - 1);
    if (commit <= from) return;
    for (const entry of core.entries(from + 1, commit + 1)) this.recordCommitted(id, entry);
    this.commitRecorded.set(id, commit);
  }

  applied(id: NodeId, entry: Entry): void {
    const previous = this.appliedThrough.get(id) ?? 0;
    if (entry.index !== previous + 1 && previous !== 0) this.violation(`apply order: ${id} applied ${entry.index} after ${previous}`);
    this.appliedThrough.set(id, entry.index);
    this.recordCommitted(id, entry);
  }

  restored(id: NodeId, snapshot: Snapshot): void {
    this.appliedThrough.set(id, snapshot.meta.index);
    this.commitRecorded.set(id, Math.max(this.commitRecorded.get(id) ?? 0, snapshot.meta.index));
    const known = this.committed.get(snapshot.meta.index);
    if (known !== undefined && known.term !== snapshot.meta.term) {
      this.violation(`state machine safety: ${id} restored a snapshot at ${snapshot.meta.index} term ${snapshot.meta.term}, committed term there is ${known.term}`);
    }
  }

  /** A restarted node re-applies from its snapshot; forget where the old incarnation was. */
  restarted(id: NodeId, snapshotIndex: number): void {
    this.appliedThrough.set(id, snapshotIndex);
    this.commitRecorded.set(id, snapshotIndex);
  }

  /** Log Matching over every entry currently in the given nodes' logs. */
  checkLogs(cores: readonly Raft[]): void {
    for (const core of cores) {
      const entries = core.entries(core.firstIndex(), core.basicStatus().lastIndex + 1);
      for (const entry of entries) {
        const key = `${entry.index}/${entry.term}`;
        const content = `${this.content(entry)}|prev=${String(core.termAt(entry.index - 1))}`;
        const known = this.identities.get(key);
        if (known === undefined) this.identities.set(key, content);
        else if (known !== content && !this.prevCompacted(known, content)) {
          this.violation(`log matching: ${core.id} has a different entry at index ${entry.index} term ${entry.term}`);
        }
      }
    }
  }

  /** The term before the first retained entry is unknown after compaction; compare the rest. */
  private prevCompacted(a: string, b: string): boolean {
    const strip = (s: string): string => s.slice(0, s.lastIndexOf('|prev='));
    return strip(a) === strip(b) && (a.endsWith('|prev=undefined') || b.endsWith('|prev=undefined'));
  }

  private recordCommitted(id: NodeId, entry: Entry): void {
    const identity = { term: entry.term, content: this.content(entry) };
    const known = this.committed.get(entry.index);
    if (known === undefined) {
      this.committed.set(entry.index, identity);
    } else if (known.term !== identity.term || known.content !== identity.content) {
      this.violation(`state machine safety: ${id} committed/applied index ${entry.index} term ${entry.term}, but term ${known.term} was committed there before`);
    }
  }

  private content(entry: Entry): string {
    let text = this.contentCache.get(entry);
    if (text === undefined) {
      text = entry.type === 'conf' ? `conf:${entry.change.type}:${entry.change.nodeId}` : `data:${decoder.decode(entry.data)}`;
      this.contentCache.set(entry, text);
    }
    return text;
  }

  committedCount(): number {
    return this.committed.size;
  }
}
