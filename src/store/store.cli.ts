/** `schoolgate migrate`, `backup FILE`, `restore FILE`. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command, CommandContext } from '../cli/command.ts';
import { dataPaths, secretFromEnv } from '../config/config.ts';
import { invalid } from '../shared/errors.ts';
import { backupSqlite, isEncryptedBackup, restoreSqlite } from './backup.ts';
import { migrate, openStore } from './store.ts';

const PG_GUIDANCE = [
  'This install uses PostgreSQL: back it up with PostgreSQL’s own tools, for example',
  '  pg_dump --format=custom --file=schoolgate.dump "$DATABASE_URL"',
  '  pg_restore --clean --if-exists --dbname="$DATABASE_URL" schoolgate.dump',
  'and copy the audit checkpoint file with it. See docs/operations.md.',
].join('\n');

function passphrase(ctx: CommandContext): string | undefined {
  const file = ctx.values['passphrase-file'];
  if (typeof file === 'string') return readFileSync(file, 'utf8').trim() || undefined;
  return secretFromEnv('SCHOOLGATE_BACKUP_PASSPHRASE');
}

const passphraseHelp =
  'To encrypt, set SCHOOLGATE_BACKUP_PASSPHRASE or pass --passphrase-file FILE (never the passphrase itself on the command line).';

export const storeCommands: Command[] = [
  {
    name: 'migrate',
    summary: 'Create or upgrade the database schema (start does this too)',
    usage: 'migrate',
    async run(ctx) {
      const config = ctx.config();
      const store = openStore(
        config.store.driver === 'postgres'
          ? { driver: 'postgres', url: config.store.postgresUrl!.reveal() }
          : { driver: 'sqlite', path: dataPaths(config).sqlite, busyTimeoutMs: config.store.busyTimeoutMs },
      );
      try {
        const applied = await migrate(store.db);
        ctx.out(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'database is up to date');
        return 0;
      } finally {
        await store.close();
      }
    },
  },
  {
    name: 'backup',
    summary: 'Write an online backup of the SQLite database (optionally encrypted)',
    usage: 'backup FILE [--passphrase-file FILE]',
    help: `Safe while Schoolgate runs. ${passphraseHelp}`,
    options: { 'passphrase-file': { type: 'string' } },
    async run(ctx) {
      const [file] = ctx.positionals;
      if (!file) throw invalid('Say where to write the backup: schoolgate backup FILE');
      const app = await ctx.app();
      if (!app.store.sqlite) {
        console.error(PG_GUIDANCE);
        return 2;
      }
      const result = await backupSqlite({
        db: app.store.sqlite,
        file: path.resolve(file),
        checkpointFile: dataPaths(app.config).auditCheckpoint,
        passphrase: passphrase(ctx),
      });
      ctx.out(`backup written to ${path.resolve(file)} (${result.bytes} bytes, ${result.encrypted ? 'encrypted' : 'not encrypted'})`);
      return 0;
    },
  },
  {
    name: 'restore',
    summary: 'Replace the SQLite database with a backup (stop Schoolgate first)',
    usage: 'restore FILE [--passphrase-file FILE] [--force]',
    help: `Checks the backup (passphrase, length, SQLite integrity) before replacing anything; --force is needed when a database exists. ${passphraseHelp}`,
    options: { 'passphrase-file': { type: 'string' }, force: { type: 'boolean' } },
    async run(ctx) {
      const [file] = ctx.positionals;
      if (!file) throw invalid('Say which backup to restore: schoolgate restore FILE');
      if (!existsSync(file)) throw invalid(`${file}: no such file`);
      const config = ctx.config();
      if (config.store.driver === 'postgres') {
        console.error(PG_GUIDANCE);
        return 2;
      }
      const paths = dataPaths(config);
      if (existsSync(paths.sqlite) && !ctx.values.force) {
        throw invalid(`${paths.sqlite} exists: stop Schoolgate and run again with --force to replace it`);
      }
      const secret = passphrase(ctx);
      if (isEncryptedBackup(file) && !secret) throw invalid(`${file} is encrypted: ${passphraseHelp}`);
      const result = restoreSqlite({ file, dbPath: paths.sqlite, checkpointFile: paths.auditCheckpoint, passphrase: secret });
      ctx.out(`restored the backup made at ${result.createdAt} into ${paths.sqlite}; run \`schoolgate audit verify\` to check it`);
      return 0;
    },
  },
];
