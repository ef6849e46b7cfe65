/** A job spec for tests, one field changed at a time with spread: `{ ...webJob, count: 3 }`. */
import type { JobSpec } from '../../src/state/index.js';

export const webJob: JobSpec = {
  name: 'web',
  count: 1,
  command: 'node',
  args: [],
  env: {},
  workdir: null,
  ports: ['http'],
  stopGraceMs: 1000,
  resources: { memoryMb: 64, cpu: 0.1 },
  restart: { policy: 'on-failure', attempts: 3, delayMs: 1000, windowMs: 60_000 },
  constraints: { role: 'any', labels: {} },
  health: null,
  noQuorumPolicy: null,
};
