/**
 * The join token parser under fuzzing (properties in join-tokens.ts): any text, valid tokens
 * with one character damaged, and round trips.
 */
import { test } from 'node:test';
import { joinTokenProperties } from './join-tokens.js';
import { assertFuzz } from './property.js';

for (const property of joinTokenProperties) test(property.name, () => assertFuzz(property));
