/**
 * The HTTP API under fuzzing (properties in api.ts) against one real single-node server:
 * well-formed requests with arbitrary contents, and raw bytes.
 */
import { after, test } from 'node:test';
import { ApiFuzzNode } from './api-node.js';
import { apiProperties } from './api.js';
import { assertFuzz } from './property.js';

const node = await ApiFuzzNode.start();
after(() => node.stop());

for (const property of apiProperties(node)) test(property.name, () => assertFuzz(property));
