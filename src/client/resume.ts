/**
 * Where a watch resumes after its stream breaks, so that it never misses nor repeats an event.
 *
 * One write can produce several events with the same revision (a transaction, a lease revoke),
 * and a stream can break between them. Resuming from "last revision + 1" would then miss the
 * rest of that revision, so the position is the last revision delivered plus how many of its
 * events were delivered: the new stream starts at that revision and the events already seen
 * are skipped (every node emits one revision's events in the same order). A progress line
 * promises that everything up to its revision was sent, which moves the position past it,
 * and an event older than the position is a lagging node replaying history: dropped.
 */
export class ResumePosition {
  /** The revision the next stream starts from (0: only changes after it starts). */
  private revision: number;
  /** Events of `revision` delivered so far. */
  private delivered = 0;
  /** Events of `revision` still to skip on the current stream. */
  private skip = 0;

  constructor(from: number) {
    this.revision = from;
  }

  get from(): number {
    return this.revision;
  }

  /** A new stream from `from` begins: it will send the delivered events of that revision again. */
  startStream(): void {
    this.skip = this.delivered;
  }

  /** Whether an event with this revision is new; if so, it counts as delivered. */
  accept(revision: number): boolean {
    if (revision < this.revision) return false;
    if (revision === this.revision) {
      if (this.skip > 0) {
        this.skip--;
        return false;
      }
      this.delivered++;
      return true;
    }
    this.revision = revision;
    this.delivered = 1;
    this.skip = 0;
    return true;
  }

  /** Every event up to `revision` has been sent on this stream. */
  progress(revision: number): void {
    if (revision < this.revision) return;
    this.revision = revision + 1;
    this.delivered = 0;
    this.skip = 0;
  }
}
