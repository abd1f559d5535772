/**
 * Entry point of `schoolgate filter serve` (bin/schoolgate.js calls it when
 * the first two words are `filter serve`, from the plain JavaScript copy that
 * filter-serve.strip.js keeps). It loads only the filter, src/shared and Node
 * built-ins: the rest of the CLI pulls in the web app (Fastify, Kysely, zod,
 * pino...), which would cost a filter node tens of MiB and most of its
 * start-up. Anything this path does not handle itself — `--help`, a flag it
 * does not know — it hands back (null) for the full CLI (src/cli/main.ts) to
 * answer, so what users see is the same either way.
 */
import { parseArgs } from 'node:util';
import { DomainError, formatIssues } from '../shared/errors.ts';
import type { CommandContext } from './command.ts';
import { filterServeCommand } from './filter-serve.ts';

/** The global flags of the full CLI (src/cli/cli.ts), so the same command lines parse here. */
const GLOBAL_OPTIONS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs `filter serve` with the arguments after those two words; null when the full CLI should answer instead. */
export async function runFilterServe(rest: string[]): Promise<number | null> {
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...filterServeCommand.options }, allowPositionals: true, strict: true });
  } catch {
    return null; // the full CLI prints the error with the command's help
  }
  if (parsed.values.help) return null;
  const unavailable = (what: string) => () => {
    throw new Error(`filter serve does not use ${what}`);
  };
  const ctx: CommandContext = {
    values: parsed.values as CommandContext['values'],
    positionals: parsed.positionals,
    config: unavailable('the configuration file'),
    app: unavailable('the web app'),
    out: (line) => process.stdout.write(`${line}\n`),
    progress: (line) => process.stdout.write(`${line}\n`),
  };
  try {
    return await filterServeCommand.run(ctx);
  } catch (error) {
    if (error instanceof DomainError) {
      console.error(`schoolgate filter serve: ${formatIssues(error)}`);
      return 1;
    }
    console.error('schoolgate filter serve failed:', error);
    return 1;
  }
}
