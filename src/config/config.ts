/**
 * Loads configuration from a YAML/JSON file and `SCHOOLGATE_*` environment
 * variables, validates it once, and says which key was wrong and where it came
 * from. This is the only file that reads `process.env` for settings.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { DomainError, type Issue } from '../shared/errors.ts';
import { type Config, configSchema } from './config.schema.ts';

export type { Config } from './config.schema.ts';

/** Where each configured key came from, for error messages. */
type Sources = Map<string, string>;

/** Options for loading: an explicit file, and the environment to read (tests pass their own). */
export interface LoadConfigOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values that win over file and environment (CLI flags, tests). */
  overrides?: Record<string, unknown>;
}

const ENV_PREFIX = 'SCHOOLGATE_';
const snake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** The environment variable that sets a key: `store.postgresUrl` → `SCHOOLGATE_STORE__POSTGRES_URL`. */
export const envName = (keyPath: string[]) => ENV_PREFIX + keyPath.map(snake).join('__');

/** Walks the zod schema to list every leaf key path (through defaults, optionals and pipes). */
function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  // zod v4 keeps the structure in `_zod.def`; unwrap wrappers until an object or a leaf.
  let def = (schema as any)._zod.def;
  while (['default', 'prefault', 'optional', 'nullable', 'pipe'].includes(def.type)) {
    def = (def.innerType ?? def.in)._zod.def;
  }
  if (def.type !== 'object') return [prefix];
  return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, child]) =>
    leafPaths(child, [...prefix, key]),
  );
}

function setPath(target: Record<string, any>, keyPath: string[], value: unknown) {
  let node = target;
  for (const key of keyPath.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key];
  }
  node[keyPath.at(-1)!] = value;
}

function recordSources(value: unknown, keyPath: string[], source: string, sources: Sources) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) recordSources(v, [...keyPath, k], source, sources);
  } else {
    sources.set(keyPath.join('.'), source);
  }
}

function readFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DomainError('config', `Cannot read config file ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (parsed == null) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the top level must be a mapping of keys');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new DomainError('config', `Config file ${file} is not valid: ${(error as Error).message}`);
  }
}

/** Finds the config file: the explicit one, `SCHOOLGATE_CONFIG`, or `./schoolgate.yaml` when present. */
function findConfigFile(options: LoadConfigOptions, env: NodeJS.ProcessEnv): string | undefined {
  const explicit = options.file ?? env.SCHOOLGATE_CONFIG;
  if (explicit) return path.resolve(explicit);
  const local = path.resolve('schoolgate.yaml');
  return existsSync(local) ? local : undefined;
}

/**
 * Loads and validates configuration. Throws a `config` DomainError whose issues
 * name each bad key and its source (`http.port (from SCHOOLGATE_HTTP__PORT)`).
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const sources: Sources = new Map();
  const raw: Record<string, any> = {};

  const file = findConfigFile(options, env);
  if (file) {
    const fromFile = readFile(file);
    Object.assign(raw, fromFile);
    recordSources(fromFile, [], `file ${file}`, sources);
  }

  for (const keyPath of leafPaths(configSchema)) {
    const name = envName(keyPath);
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(raw, keyPath, value);
    sources.set(keyPath.join('.'), `environment variable ${name}`);
  }

  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    setPath(raw, key.split('.'), value);
    sources.set(key, 'command line');
  }

  const known = new Set(leafPaths(configSchema).map((p) => p.join('.')));
  const unknownIssues: Issue[] = [...sources.entries()]
    .filter(([key]) => !known.has(key) && ![...known].some((k) => k.startsWith(`${key}.`)))
    .map(([key, source]) => ({ where: `${key} (from ${source})`, message: 'unknown setting' }));

  const result = configSchema.safeParse(raw);
  const issues: Issue[] = [...unknownIssues];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path.join('.');
      const source = sources.get(key) ?? (key ? 'default' : 'config');
      issues.push({ where: `${key || '(top level)'} (from ${source})`, message: issue.message });
    }
  }
  if (issues.length > 0) throw new DomainError('config', 'Invalid configuration', issues);
  const config = result.data!;
  config.dataDir = path.resolve(config.dataDir);
  return config;
}

/** Resolved file locations derived from the config (defaults under dataDir). */
export function dataPaths(config: Config) {
  const dir = config.dataDir;
  return {
    sqlite: path.resolve(config.store.sqlitePath ?? path.join(dir, 'schoolgate.db')),
    auditKey: path.resolve(config.audit.keyFile ?? path.join(dir, 'secrets', 'audit.key')),
    auditCheckpoint: path.resolve(config.audit.checkpointFile ?? path.join(dir, 'audit.checkpoint')),
    sessionKey: path.join(dir, 'secrets', 'session.key'),
    /** AES-256-GCM key for TOTP secrets and the SSO state cookie (created on first use). */
    totpKey: path.join(dir, 'secrets', 'totp.key'),
    /** The self-signed web certificate made at first start (`http.selfSignedTls`). */
    tlsDir: path.join(dir, 'tls'),
    /** The school root CA for HTTPS block pages (`blockPage.rootCa`). */
    blockPageCa: path.join(dir, 'secrets', 'block-page-ca'),
    /** The compiled category catalog the DNS filter loads (written by the lists module, or the demo). */
    catalog: path.join(dir, 'catalog', 'catalog.bin'),
    /** Last good copies of the category lists the catalog is compiled from, and their state. */
    lists: path.join(dir, 'lists'),
  };
}

/** A secret given to one command through the environment (never through config files or flags). */
export function secretFromEnv(name: 'SCHOOLGATE_BACKUP_PASSPHRASE', env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value ? value : undefined;
}
