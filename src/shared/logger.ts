/** The process logger (pino), with secrets redacted wherever they might appear. */
import pino, { type Logger } from 'pino';

/** Paths pino blanks out before a line is written. */
export const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.code',
  '*.secret',
  '*.token',
  '*.clientSecret',
  '*.postgresUrl',
];

/** Creates the logger; `destination` lets tests capture what would be written. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        // Log the path only: query strings can carry one-time codes (OIDC) or tokens.
        // DoH path tokens identify a device or a person: they are secrets too.
        req: (req) => ({ method: req.method, url: String(req.url).split('?')[0].replace(/^\/dns-query\/[^/]+/, '/dns-query/[token]'), remoteAddress: req.ip }),
      },
    },
    destination,
  );
}
