/**
 * The message decoder under fuzzing (properties in messages.ts): arbitrary values, real
 * messages and frames with one field changed, and round trips of valid frames.
 */
import { test } from 'node:test';
import { messageProperties } from './messages.js';
import { assertFuzz } from './property.js';

for (const property of messageProperties) test(property.name, () => assertFuzz(property));
