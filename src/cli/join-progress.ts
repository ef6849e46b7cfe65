/**
 * The line `cluster join` shows while the new member catches up, as the cluster sees it: first
 * the snapshot arriving (bytes, when the leader had compacted its log), then the entries it
 * applies, each with its rate and an ETA from successive polls.
 *
 *   learner, receiving a snapshot: 12.0 MiB/40.0 MiB (30%), 4.1 MiB/s, ETA 7s
 *   learner, catching up: applied=1200/5000, 800 entries/s, ETA 5s
 */
import type { MemberViewJson } from '../api/index.js';
import { formatBytes, formatEta, RateMeter } from './progress.js';

export class JoinProgress {
  private readonly entries = new RateMeter();
  private readonly bytes = new RateMeter();

  /** The line for `self` at `atMs`; `best` is the most advanced member's applied index. */
  line(atMs: number, self: MemberViewJson, best: number): string {
    const snapshot = self.report?.snapshotReceiving;
    if (snapshot !== undefined) {
      this.bytes.add(atMs, snapshot.receivedBytes, snapshot.totalBytes);
      const rate = this.bytes.perSecond();
      const percent = snapshot.totalBytes === 0 ? 100 : Math.floor((snapshot.receivedBytes / snapshot.totalBytes) * 100);
      const speed = rate === null ? '' : `, ${formatBytes(Math.round(rate))}/s`;
      return `learner, receiving a snapshot: ${formatBytes(snapshot.receivedBytes)}/${formatBytes(snapshot.totalBytes)} (${percent}%)${speed}, ${formatEta(this.bytes.etaMs())}`;
    }
    const applied = self.report?.appliedIndex ?? 0;
    this.entries.add(atMs, applied, best);
    const rate = this.entries.perSecond();
    const speed = rate === null ? '' : `, ${Math.round(rate)} entries/s`;
    return `learner, catching up: applied=${applied}/${best}${speed}, ${formatEta(this.entries.etaMs())}`;
  }
}
