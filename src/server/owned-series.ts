/**
 * Series registered by one owner in a registry that others share (a node's series and its
 * API's in one registry), so that the owner can take back exactly its own when it stops and
 * a successor can register the same names again.
 */
import type { Registry } from 'prom-client';

export interface OwnedSeries<T> {
  readonly series: T;
  /** Remove every series `register` added. */
  unregister(): void;
}

export function registerOwned<T>(registry: Registry, register: (registry: Registry) => T): OwnedSeries<T> {
  const names = (): string[] => registry.getMetricsAsArray().map((metric) => metric.name);
  const before = new Set(names());
  const series = register(registry);
  const added = names().filter((name) => !before.has(name));
  return {
    series,
    unregister: () => {
      for (const name of added) registry.removeSingleMetric(name);
    },
  };
}
