/** How the transport reports what it sees; the server passes its logger, tests capture lines. */
export type TransportLogLevel = 'debug' | 'info' | 'warn' | 'error';

export type TransportLog = (level: TransportLogLevel, msg: string, fields: Readonly<Record<string, unknown>>) => void;

export const silentLog: TransportLog = () => undefined;
