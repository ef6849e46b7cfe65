#!/usr/bin/env node
/**
 * The `quorate` executable. Failures a user can act on (an unreachable endpoint, a missing
 * key, a refused request) print "error: <message>" on standard error and exit with status 1,
 * never with a stack trace; commander reports its own usage errors the same way.
 */
import { CommanderError } from 'commander';
import { QuorateClientError } from '../client/index.js';
import { QuorateError } from '../util/errors.js';
import { CliError } from './context.js';
import { buildProgram } from './program.js';

function messageOf(error: unknown): string {
  if (error instanceof QuorateClientError || error instanceof QuorateError || error instanceof CliError) return error.message;
  // Anything else is a bug in quorate: show where it happened.
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

// `quorate ... | head` closes the pipe early: that ends the output, it is not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  // commander has printed its message already; help and version are not failures.
  if (error instanceof CommanderError) process.exitCode = error.exitCode;
  else {
    process.stderr.write(`error: ${messageOf(error)}\n`);
    process.exitCode = 1;
  }
}
