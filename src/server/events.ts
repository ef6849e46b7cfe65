/**
 * The node's recent cluster events (issue 10): leaders elected, members joining, being promoted
 * and removed, nodes lost, fenced, down and ready, quorum lost and regained, jobs placed, failed
 * and replaced. `quorate events`, GET /v1/events and the dashboard read them.
 *
 * Every node keeps its own ring of the newest `eventsMax` events, numbered by its own `seq`
 * (1 for the first event after the process started) and stamped with its own clock. The ring is
 * not replicated: the events are what this node saw (log-events.ts derives most of them from
 * the entries it applies, leadership-events.ts the rest from its Raft state), so another node
 * numbers the same happenings differently, and a restarted node begins again at 1.
 */
import type { Disposable } from '../state/index.js';

export const clusterEventTypes = [
  'leader_elected',
  'member_joined',
  'member_promoted',
  'member_removed',
  'node_lost',
  'node_fenced',
  'node_down',
  'node_ready',
  'quorum_lost',
  'quorum_regained',
  'job_placed',
  'job_failed',
  'job_replaced',
] as const;

export type ClusterEventType = (typeof clusterEventTypes)[number];

/** One event, as the API sends it (the dashboard is built against this shape). */
export interface ClusterEvent {
  readonly seq: number;
  /** When this node recorded it (ISO 8601, UTC). */
  readonly time: string;
  readonly type: ClusterEventType;
  /** The node (or member) the event is about; for job events, the node of the allocation. */
  readonly node?: string;
  readonly job?: string;
  /** The Raft term: the new leader's, or that of the entry the event was derived from. */
  readonly term?: number;
  /** A sentence for people, in the words `cluster status` and `node list` use. */
  readonly message: string;
}

/** An event before the log numbers and stamps it. */
export type EventFact = Omit<ClusterEvent, 'seq' | 'time'>;

export interface EventPage {
  /** Oldest first. */
  readonly events: readonly ClusterEvent[];
  /** The seq to ask from next time. */
  readonly next: number;
}

export type EventListener = (event: ClusterEvent) => void;

/** What the API reads: the buffered events, and each new one as it is recorded. */
export interface EventFeed {
  /** The seq the next event will get. */
  readonly next: number;
  /**
   * The buffered events with seq >= `from`, and the seq to ask from next. A `from` beyond that
   * (a client that followed this node before it restarted and counted from 1 again) is served
   * as 0: every buffered event.
   */
  since(from: number): EventPage;
  /** Calls `listener` synchronously with each event recorded from now on. */
  subscribe(listener: EventListener): Disposable;
}

/** Enough for the dashboard's "recent events" and a few minutes of a node failing over repeatedly. */
export const defaultEventsMax = 1000;

export class EventLog implements EventFeed {
  /** Oldest first; seqs are consecutive, so an event's place is its seq minus the first one's. */
  private readonly ring: ClusterEvent[] = [];
  private readonly listeners = new Set<EventListener>();
  private nextSeq = 1;

  constructor(
    /** Wall-clock milliseconds since the epoch: event times are for people. */
    private readonly wallClock: () => number,
    private readonly eventsMax = defaultEventsMax,
  ) {}

  get next(): number {
    return this.nextSeq;
  }

  record(fact: EventFact): void {
    const event: ClusterEvent = { seq: this.nextSeq++, time: new Date(this.wallClock()).toISOString(), ...fact };
    this.ring.push(event);
    if (this.ring.length > this.eventsMax) this.ring.shift();
    for (const listener of this.listeners) listener(event);
  }

  since(from: number): EventPage {
    const first = this.ring[0]?.seq ?? this.nextSeq;
    const start = from > this.nextSeq ? 0 : Math.max(0, from - first);
    return { events: this.ring.slice(start), next: this.nextSeq };
  }

  subscribe(listener: EventListener): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
}
