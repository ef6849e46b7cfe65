/**
 * Run by network.test.ts inside a private network namespace (and by nothing else: loaded
 * anywhere else, for example by the test runner, it does nothing). It listens on three node
 * addresses, tries TCP connections between them before and after each kind of rule, and prints
 * what happened as one JSON line.
 */
import { connect, createServer, type Server } from 'node:net';
import { clientAddress, cutOneWay, heal, inPrivateNetwork, partition, prepareNetwork } from './network.js';

const port = 9000;
const nodes = ['127.0.0.1', '127.0.0.2', '127.0.0.3'] as const;
const connectTimeoutMs = 500;

function tryConnect(from: string, to: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: to, port, localAddress: from });
    const done = (outcome: string): void => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(connectTimeoutMs, () => done('timeout'));
    socket.once('connect', () => done('ok'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

async function probe(pairs: readonly (readonly [string, string])[]): Promise<Record<string, string>> {
  const outcomes = await Promise.all(pairs.map(([from, to]) => tryConnect(from, to)));
  return Object.fromEntries(pairs.map(([from, to], i) => [`${from}->${to}`, outcomes[i] ?? '']));
}

async function main(): Promise<void> {
  await prepareNetwork();
  const servers: Server[] = await Promise.all(
    nodes.map((host) => new Promise<Server>((resolve) => {
      const server = createServer((socket) => socket.destroy());
      server.listen(port, host, () => resolve(server));
    })),
  );
  const [n1, n2, n3] = nodes;
  const pairs = [[n1, n2], [n2, n1], [n3, n2], [n2, n3], [clientAddress, n1], [clientAddress, n2]] as const;
  const result: Record<string, Record<string, string>> = { before: await probe(pairs) };
  await cutOneWay(n1, n2);
  result.oneWay = await probe(pairs);
  await heal();
  await partition([[n1], [n2, n3]]);
  result.partition = await probe(pairs);
  await heal();
  result.healed = await probe(pairs);
  for (const server of servers) server.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (inPrivateNetwork()) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
