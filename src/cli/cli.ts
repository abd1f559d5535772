/**
 * `schoolgate` command line: finds the subcommand, parses its flags, prints
 * help, and turns domain errors into a message on stderr and a non-zero exit.
 */
import { parseArgs } from 'node:util';
import { auditCommands } from '../audit/audit.cli.ts';
import { authCommands } from '../auth/auth.cli.ts';
import { type Config, loadConfig } from '../config/config.ts';
import { listsCommands } from '../lists/lists.cli.ts';
import { overblockingCommands } from '../lists/lists.overblocking.cli.ts';
import { peopleCommands } from '../people/people.cli.ts';
import { DomainError, formatIssues } from '../shared/errors.ts';
import { storeCommands } from '../store/store.cli.ts';
import { createSchoolgate, type Schoolgate } from '../app.ts';
import type { Command, CommandContext } from './command.ts';
import { filterServeCommand } from './filter-serve.ts';
import { startCommand } from './start.ts';

/** Every command, in the order `--help` lists them. */
export const COMMANDS: Command[] = [startCommand, filterServeCommand, ...storeCommands, ...authCommands, ...peopleCommands, ...listsCommands, ...overblockingCommands, ...auditCommands];

const GLOBAL_OPTIONS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
} as const;

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: schoolgate <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    '  -c, --config FILE  configuration file (default ./schoolgate.yaml, or SCHOOLGATE_CONFIG)',
    '  -h, --help         help for a command: schoolgate <command> --help',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const options = Object.entries(command.options ?? {}).map(
    ([name, o]) => `  ${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' VALUE' : ''}`,
  );
  return [
    `Usage: schoolgate ${command.usage}`,
    '',
    command.summary,
    ...(command.help ? ['', command.help] : []),
    ...(options.length ? ['', 'Options:', ...options] : []),
    '',
    '  -c, --config FILE  configuration file',
  ].join('\n');
}

/** Runs the CLI with these arguments; resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const words = argv.filter((a) => !a.startsWith('-'));
  const command = [...COMMANDS]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((c) => c.name.split(' ').every((w, i) => words[i] === w));
  if (!command) {
    const asked = argv.includes('--help') || argv.includes('-h') || argv.length === 0;
    (asked ? console.log : console.error)(asked ? overview() : `Unknown command: ${words.join(' ')}\n\n${overview()}`);
    return asked ? 0 : 2;
  }
  const nameLength = command.name.split(' ').length;
  const rest = [...argv];
  for (let removed = 0; removed < nameLength; ) {
    const index = rest.findIndex((a) => !a.startsWith('-'));
    rest.splice(index, 1);
    removed += 1;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...(command.options ?? {}) }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${commandHelp(command)}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(commandHelp(command));
    return 0;
  }

  let config: Config | undefined;
  let app: Schoolgate | undefined;
  const ctx: CommandContext = {
    values: parsed.values as CommandContext['values'],
    positionals: parsed.positionals,
    config: () => (config ??= loadConfig({ file: parsed.values.config as string | undefined })),
    app: async () => (app ??= await createSchoolgate(ctx.config())),
    out: (line) => process.stdout.write(`${line}\n`),
    progress: (line) => {
      if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K${line}`);
      else process.stdout.write(`${line}\n`);
    },
  };
  try {
    return await command.run(ctx);
  } catch (error) {
    if (error instanceof DomainError) {
      console.error(`schoolgate ${command.name}: ${formatIssues(error)}`);
      return 1;
    }
    console.error(`schoolgate ${command.name} failed:`, error);
    return 1;
  } finally {
    if (command !== startCommand && command !== filterServeCommand) await app?.close();
  }
}
