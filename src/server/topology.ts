/**
 * Topology warnings for `cluster status` (seed 003): where the voters sit (their `rack` and
 * `zone` labels) and whether lost nodes can be fenced at all.
 *
 * Voters in exactly two racks (or zones) are no better than one: whichever side holds the
 * majority, losing that rack loses quorum, and the other side cannot take over alone. Three or
 * more places, or all in one (a small lab), are what an operator chooses knowingly.
 */
import type { FencingConfig, WorkloadNode } from '../state/index.js';

export interface TopologyInput {
  readonly voters: readonly string[];
  /** The registry's nodes (servers register with their labels like agents do). */
  readonly nodes: readonly WorkloadNode[];
  readonly fencing: FencingConfig;
  /** Jobs whose copies stop when their node loses quorum (no-quorum policy stop, stated or default). */
  readonly stopJobs: number;
}

export function topologyWarnings(input: TopologyInput): string[] {
  const out: string[] = [];
  const labelsOf = new Map(input.nodes.map((n) => [n.id, n.labels]));
  for (const label of ['rack', 'zone'] as const) {
    const places = new Set(input.voters.map((id) => labelsOf.get(id)?.[label]).filter((place): place is string => place !== undefined));
    if (places.size === 2) {
      out.push(`the voters are in exactly two ${label}s (${[...places].sort().join(', ')}): two ${label}s is no better than one, since losing the ${label} with the majority stops writes; put a voter (or an arbiter) in a third ${label}`);
    }
  }
  if (input.fencing.twoNode === true) {
    out.push(
      input.voters.length === 2
        ? 'two_node: TWO VOTERS. If one fails (or the link between them does), the other fences it with the fence devices and goes on alone; if the devices cannot fence it, writes stop. The fenced node must be wiped and joined again. An arbiter (quorate cluster arbiter add) avoids all of this'
        : `two_node is set but the cluster has ${input.voters.length} voter(s): it applies only to exactly two`,
    );
  }
  if (input.stopJobs > 0 && input.fencing.levels.length === 0 && !input.fencing.watchdog) {
    out.push(`no fencing is configured (no fence devices, watchdog fencing off) while ${input.stopJobs} job(s) use no-quorum policy stop: a lost node's jobs can never be replaced; add fence devices or turn watchdog fencing on (quorate fence config)`);
  }
  return out;
}
