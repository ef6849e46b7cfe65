/**
 * The service the API serves, behind one indirection: a two_node survivor restarts its node
 * as the only voter (two-node.ts) while the API keeps listening, and requests go to the new
 * node from then on. Streams opened on the old node (watches) end with it; clients resume.
 */
import type { KvService } from './service.js';

export interface SwitchableService {
  readonly service: KvService;
  switchTo(next: KvService): void;
}

export function switchableService(initial: KvService): SwitchableService {
  let current = initial;
  const service = new Proxy(initial, {
    get(_target, property) {
      const value: unknown = Reflect.get(current, property, current);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
  return {
    service,
    switchTo: (next) => {
      current = next;
    },
  };
}
