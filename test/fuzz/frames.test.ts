/**
 * The frame decoder under fuzzing (properties in frames.ts): arbitrary bytes in arbitrary
 * chunks, oversize headers, valid frames followed by garbage, and payloads that announce more
 * than they hold.
 */
import { test } from 'node:test';
import { frameProperties } from './frames.js';
import { assertFuzz } from './property.js';

for (const property of frameProperties) test(property.name, () => assertFuzz(property));
