/**
 * A Prometheus series that mirrors a number the program already keeps (a Raft index, a counter
 * in ConsensusCounters, the API's refusal counts): it is read when the registry is collected
 * (a scrape, an OTLP export), so the series is never stale and nothing has to be updated twice.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type Labels = Readonly<Record<string, string>>;

/** One unlabelled value, or one value per label set. */
export type MirrorReading = number | readonly (readonly [Labels, number])[];

export interface MirrorSpec {
  readonly name: string;
  readonly help: string;
  /** A counter must only grow while the process runs (Prometheus treats a drop as a restart). */
  readonly type: 'gauge' | 'counter';
  readonly labelNames?: readonly string[];
  readonly read: () => MirrorReading;
}

export type Mirror = Gauge | Counter;

export function mirror(registry: Registry, spec: MirrorSpec): Mirror {
  const config = { name: spec.name, help: spec.help, labelNames: spec.labelNames ?? [], registers: [registry] };
  if (spec.type === 'gauge') {
    return new Gauge({
      ...config,
      collect() {
        this.reset();
        for (const [labels, value] of readings(spec.read())) this.set(labels, value);
      },
    });
  }
  return new Counter({
    ...config,
    collect() {
      this.reset();
      for (const [labels, value] of readings(spec.read())) this.inc(labels, value);
    },
  });
}

function readings(reading: MirrorReading): readonly (readonly [Labels, number])[] {
  return typeof reading === 'number' ? [[{}, reading]] : reading;
}
