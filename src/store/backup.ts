/**
 * Online backups of the embedded SQLite database, optionally encrypted with a
 * passphrase (AES-256-GCM, key from scrypt). A backup carries the audit
 * checkpoint too, so a restored database verifies; the audit key is not in it
 * (keep that off the database machine, as docs/operations.md says).
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { backup as sqliteBackup, DatabaseSync } from 'node:sqlite';
import { DomainError } from '../shared/errors.ts';

const MAGIC_PLAIN = Buffer.from('SGBACKUP1\n');
const MAGIC_ENCRYPTED = Buffer.from('SGBACKUPENC1\n');

interface Header {
  format: 'schoolgate-backup';
  version: 1;
  createdAt: string;
  dbBytes: number;
  checkpoint: string | null;
}

const keyFrom = (passphrase: string, salt: Buffer) => scryptSync(passphrase, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });

/** Writes a consistent copy of a live database (and its checkpoint) to `file`. */
export async function backupSqlite(options: { db: DatabaseSync; file: string; checkpointFile: string; passphrase?: string }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'schoolgate-backup-'));
  try {
    const copy = path.join(dir, 'db.sqlite');
    // The online backup API copies page by page while the server keeps serving.
    await sqliteBackup(options.db, copy);
    const dbBytes = readFileSync(copy);
    const header: Header = {
      format: 'schoolgate-backup',
      version: 1,
      createdAt: new Date().toISOString(),
      dbBytes: dbBytes.length,
      checkpoint: existsSync(options.checkpointFile) ? readFileSync(options.checkpointFile, 'utf8') : null,
    };
    const plain = Buffer.concat([MAGIC_PLAIN, Buffer.from(`${JSON.stringify(header)}\n`), dbBytes]);
    let output = plain;
    if (options.passphrase) {
      const salt = randomBytes(16);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keyFrom(options.passphrase, salt), iv);
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      output = Buffer.concat([MAGIC_ENCRYPTED, salt, iv, cipher.getAuthTag(), body]);
    }
    const temp = `${options.file}.tmp`;
    writeFileSync(temp, output, { mode: 0o600 });
    renameSync(temp, options.file);
    return { bytes: output.length, encrypted: Boolean(options.passphrase) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readBackup(file: string, passphrase?: string): { header: Header; db: Buffer } {
  let data = readFileSync(file);
  if (data.subarray(0, MAGIC_ENCRYPTED.length).equals(MAGIC_ENCRYPTED)) {
    if (!passphrase) throw new DomainError('validation', `${file} is encrypted: give the passphrase (SCHOOLGATE_BACKUP_PASSPHRASE or --passphrase-file)`);
    let offset = MAGIC_ENCRYPTED.length;
    const salt = data.subarray(offset, (offset += 16));
    const iv = data.subarray(offset, (offset += 12));
    const tag = data.subarray(offset, (offset += 16));
    const decipher = createDecipheriv('aes-256-gcm', keyFrom(passphrase, salt), iv);
    decipher.setAuthTag(tag);
    try {
      data = Buffer.concat([decipher.update(data.subarray(offset)), decipher.final()]);
    } catch {
      throw new DomainError('validation', `${file}: wrong passphrase, or the file is damaged`);
    }
  }
  if (!data.subarray(0, MAGIC_PLAIN.length).equals(MAGIC_PLAIN)) {
    throw new DomainError('validation', `${file} is not a Schoolgate backup`);
  }
  const headerEnd = data.indexOf(0x0a, MAGIC_PLAIN.length);
  const header = JSON.parse(data.subarray(MAGIC_PLAIN.length, headerEnd).toString('utf8')) as Header;
  const db = data.subarray(headerEnd + 1);
  if (header.format !== 'schoolgate-backup' || db.length !== header.dbBytes) {
    throw new DomainError('validation', `${file} is truncated or damaged (expected ${header.dbBytes} database bytes, found ${db.length})`);
  }
  return { header, db };
}

/** Replaces the database file (and checkpoint) with a backup's. Schoolgate must be stopped. */
export function restoreSqlite(options: { file: string; dbPath: string; checkpointFile: string; passphrase?: string }) {
  const { header, db } = readBackup(options.file, options.passphrase);
  const temp = `${options.dbPath}.restore`;
  writeFileSync(temp, db, { mode: 0o600 });
  // Check the copy is a sound SQLite database before it replaces anything.
  const check = new DatabaseSync(temp, { readOnly: true });
  try {
    const result = check.prepare('PRAGMA integrity_check').get() as { integrity_check: string };
    if (result.integrity_check !== 'ok') throw new DomainError('integrity', `backup database fails its integrity check: ${result.integrity_check}`);
  } finally {
    check.close();
  }
  for (const suffix of ['-wal', '-shm']) rmSync(`${options.dbPath}${suffix}`, { force: true });
  renameSync(temp, options.dbPath);
  if (header.checkpoint) writeFileSync(options.checkpointFile, header.checkpoint, { mode: 0o600 });
  return { createdAt: header.createdAt, bytes: statSync(options.dbPath).size };
}

/** Reads the first bytes of a file to tell whether it is encrypted. */
export function isEncryptedBackup(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(MAGIC_ENCRYPTED.length);
    readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.equals(MAGIC_ENCRYPTED);
  } finally {
    closeSync(fd);
  }
}
