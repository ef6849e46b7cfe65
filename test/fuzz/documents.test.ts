/**
 * Operator documents under fuzzing (properties in documents.ts): job files, the fencing file
 * and the server's TOML config, as parsed documents and as file text.
 */
import { test } from 'node:test';
import { configTarget } from './config-documents.js';
import { documentProperties } from './documents.js';
import { fencingTarget } from './fencing-documents.js';
import { jobTarget } from './job-documents.js';
import { assertFuzz } from './property.js';

for (const target of [jobTarget, fencingTarget, configTarget]) {
  for (const property of documentProperties(target)) test(property.name, () => assertFuzz(property));
}
