// The gateway's log: JSON lines (pino) on stdout. Nothing secret is handed to it; the
// redaction below is a second guard for fields that may one day hold one.
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/index.ts';

export type { Logger } from 'pino';

const secretFields = ['password', 'apiKey', 'secret', 'authorization', 'token', 'authToken'];

export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...secretFields, ...secretFields.map((f) => `*.${f}`)], censor: '[redacted]' },
    },
    destination,
  );
}

/** A logger that writes nothing: the default when a gateway is started without one (tests). */
export const silentLog: Logger = pino({ level: 'silent' });

/**
 * Lets `write` run at most once per `intervalMs` for each key, telling how many were left
 * out in between: a failing webhook receiver is logged, not once per delivery.
 */
export function perKeyLimiter(intervalMs: number) {
  const last = new Map<string, { at: number; skipped: number }>();
  return (key: string, write: (skipped: number) => void) => {
    const now = Date.now();
    const seen = last.get(key);
    if (seen && now - seen.at < intervalMs) {
      seen.skipped++;
      return;
    }
    write(seen?.skipped ?? 0);
    if (last.size > 10_000) last.clear();
    last.set(key, { at: now, skipped: 0 });
  };
}
