/**
 * Direct fencing: run the configured fence devices against a node, level by level (Pacemaker's
 * fencing topology). A device is a command run as `command ...args off <node id>` with
 * QUORATE_FENCE_ACTION, QUORATE_FENCE_NODE and QUORATE_FENCE_ADDRESS in its environment; exit 0
 * means the node is off. A device that fails or times out is tried again `retries` times. A
 * level succeeds when all its devices do (two PDUs feeding one machine); the first level that
 * succeeds fences the node, and the next level is tried only when one fails.
 */
import { execFile } from 'node:child_process';
import type { FenceDevice, FenceLevel } from '../state/index.js';

export interface FenceTarget {
  readonly id: string;
  readonly address: string;
}

export interface FenceOutcome {
  readonly fenced: boolean;
  /** What each level and device did, for the history and `node list`. */
  readonly detail: string;
}

const outputMax = 200;

export async function fenceWithDevices(levels: readonly FenceLevel[], target: FenceTarget): Promise<FenceOutcome> {
  if (levels.length === 0) return { fenced: false, detail: 'no fence devices are configured' };
  const report: string[] = [];
  for (const level of [...levels].sort((a, b) => a.level - b.level)) {
    const results: string[] = [];
    let ok = true;
    for (const device of level.devices) {
      const result = await runDevice(device, target);
      results.push(`${device.name} ${result}`);
      if (result !== 'ok') {
        ok = false;
        break;
      }
    }
    report.push(`level ${level.level}: ${results.join(', ')}`);
    if (ok) return { fenced: true, detail: report.join('; ') };
  }
  return { fenced: false, detail: `every level failed: ${report.join('; ')}` };
}

/** 'ok', or what went wrong on the last attempt. */
async function runDevice(device: FenceDevice, target: FenceTarget): Promise<string> {
  let problem = '';
  for (let attempt = 0; attempt <= device.retries; attempt++) {
    problem = await runOnce(device, target);
    if (problem === 'ok') return attempt === 0 ? 'ok' : `ok (attempt ${attempt + 1})`;
  }
  return `failed (${problem}${device.retries > 0 ? `; ${device.retries + 1} attempts` : ''})`;
}

function runOnce(device: FenceDevice, target: FenceTarget): Promise<string> {
  const env = {
    ...(process.env.PATH === undefined ? {} : { PATH: process.env.PATH }),
    QUORATE_FENCE_ACTION: 'off',
    QUORATE_FENCE_NODE: target.id,
    QUORATE_FENCE_ADDRESS: target.address,
  };
  return new Promise((resolve) => {
    execFile(device.command, [...device.args, 'off', target.id], { env, timeout: device.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 }, (error, _stdout, stderr) => {
      if (error === null) {
        resolve('ok');
        return;
      }
      const said = stderr.trim().split('\n').pop()?.slice(0, outputMax) ?? '';
      const how = error.killed ? `no answer within ${device.timeoutMs} ms` : typeof error.code === 'number' ? `exit ${error.code}` : error.message;
      resolve(said === '' ? how : `${how}: ${said}`);
    });
  });
}
