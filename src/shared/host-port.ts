/** `HOST:PORT` addresses as written in config and flags: `127.0.0.1:53`, `[::1]:53`, `0.0.0.0:853`. */
import { isIP } from 'node:net';

/** Parses `HOST:PORT`; throws an Error naming the text when it is not one. */
export function parseHostPort(text: string, defaultPort?: number): { host: string; port: number } {
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  const port = match?.[2] !== undefined ? Number(match[2]) : defaultPort;
  if (!match || port === undefined || !Number.isInteger(port) || port < 0 || port > 65535 || !isIP(match[1])) {
    throw new Error(`"${text}" is not an address and port such as 127.0.0.1:53 or [::1]:53`);
  }
  return { host: match[1], port };
}
