/**
 * `quorate events [--follow] [--from SEQ]`: the answering node's recent cluster events, one line
 * each, oldest first; with --follow it goes on printing new ones until Ctrl-C. With --json each
 * event is printed as the API's JSON, one object per line.
 *
 *   2026-11-22T10:00:00Z  leader_elected  node-2  node-2 was elected leader (term 7)
 *
 * Events are numbered per node (`seq`): --from resumes on the same node, not on another.
 */
import type { Command } from 'commander';
import type { ClusterEventJson } from '../api/index.js';
import { clientFor, globalOptions, parseCount, print, printJson, untilSignal } from './context.js';

/** One event for people: the time to the second, the type, the node it is about ("-" for none), the sentence. */
export function formatEvent(event: ClusterEventJson): string {
  return `${event.time.replace(/\.\d+Z$/, 'Z')}  ${event.type}  ${event.node ?? '-'}  ${event.message}\n`;
}

export function addEventsCommand(program: Command): void {
  program
    .command('events')
    .description("the answering node's recent cluster events: leaders, members, nodes, quorum, jobs")
    .option('--follow', 'keep printing new events until interrupted')
    .option('--from <seq>', 'start at this event number (default: every event the node still holds)', parseCount)
    .action(async (options: { follow?: boolean; from?: number }, command: Command) => {
      const global = globalOptions(command);
      const client = await clientFor(global);
      const show = (event: ClusterEventJson): void => (global.json === true ? printJson(event) : print(formatEvent(event)));
      if (options.follow !== true) {
        for (const event of (await client.events(options.from ?? 0)).events) show(event);
        return;
      }
      const stop = new AbortController();
      void untilSignal().then(() => stop.abort());
      for await (const event of client.followEvents({ ...(options.from === undefined ? {} : { from: options.from }), signal: stop.signal })) show(event);
    });
}
