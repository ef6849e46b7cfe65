/**
 * Runs the built `quorate` command as a child process, found next to this file in the build
 * output (dist/test/cli -> dist/src/cli/main.js), and collects its exit status and output.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const cliPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Start the command; the caller owns the process and must see it exit. */
export function spawnCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): ChildProcessWithoutNullStreams {
  const childEnv = { ...process.env, ...env };
  if (env.QUORATE_ENDPOINTS === undefined) delete childEnv.QUORATE_ENDPOINTS;
  return spawn(process.execPath, [cliPath, ...args], { env: childEnv });
}

export function finished(child: ChildProcessWithoutNullStreams): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  return finished(spawnCli(args, env));
}

/** Resolves once the command's output contains `text` (call after finished(), which sets the encoding); rejects if it exits first. */
export function outputIncludes(child: ChildProcessWithoutNullStreams, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes(text)) resolve();
    });
    child.on('close', () => reject(new Error(`the command exited before printing ${JSON.stringify(text)}:\n${out}`)));
  });
}
