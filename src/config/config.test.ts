import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { DomainError } from '../shared/errors.ts';
import { envName, loadConfig } from './config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'schoolgate-config-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

function configError(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${error}`);
    assert.equal(error.code, 'config');
    return error;
  }
  assert.fail('expected the config to be refused');
}

describe('config', () => {
  it('uses the demo defaults with no file and no environment', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.http.port, 8080);
    assert.equal(config.store.driver, 'sqlite');
    assert.ok(path.isAbsolute(config.dataDir));
  });

  it('reads a YAML file and lets environment variables win over it', () => {
    const yaml = file('a.yaml', 'http:\n  port: 9000\n  host: 0.0.0.0\nlog:\n  level: warn\n');
    const config = loadConfig({ file: yaml, env: { SCHOOLGATE_HTTP__PORT: '9100' } });
    assert.equal(config.http.port, 9100);
    assert.equal(config.http.host, '0.0.0.0');
    assert.equal(config.log.level, 'warn');
  });

  it('names the key and the file when a file value is bad', () => {
    const yaml = file('b.yaml', 'http:\n  port: eighty\n');
    const error = configError(() => loadConfig({ file: yaml, env: {} }));
    assert.equal(error.issues.length, 1);
    assert.match(error.issues[0].where, /^http\.port \(from file .*b\.yaml\)$/);
  });

  it('names the key and the variable when an environment value is bad', () => {
    const error = configError(() => loadConfig({ env: { SCHOOLGATE_STORE__DRIVER: 'mysql' } }));
    assert.match(error.issues[0].where, /^store\.driver \(from environment variable SCHOOLGATE_STORE__DRIVER\)$/);
  });

  it('refuses unknown keys so a typo is not silently ignored', () => {
    const yaml = file('c.yaml', 'http:\n  prot: 80\n');
    const error = configError(() => loadConfig({ file: yaml, env: {} }));
    assert.match(error.issues[0].where, /^http\.prot /);
    assert.match(error.issues[0].message, /unknown/);
  });

  it('reports a file that is not YAML at all', () => {
    const yaml = file('d.yaml', 'http: [unclosed\n');
    const error = configError(() => loadConfig({ file: yaml, env: {} }));
    assert.match(error.message, /d\.yaml is not valid/);
  });

  it('parses boolean strings from the environment', () => {
    assert.equal(loadConfig({ env: { SCHOOLGATE_HTTP__TRUST_PROXY: 'false' } }).http.trustProxy, false);
    assert.equal(loadConfig({ env: { SCHOOLGATE_HTTP__TRUST_PROXY: 'true' } }).http.trustProxy, true);
  });

  it('keeps secrets out of printed and serialised config', () => {
    const url = 'postgres://sg:hunter2-very-secret@127.0.0.1/sg';
    const config = loadConfig({ env: { [envName(['store', 'postgresUrl'])]: url, SCHOOLGATE_STORE__DRIVER: 'postgres' } });
    assert.equal(config.store.postgresUrl?.reveal(), url);
    assert.doesNotMatch(JSON.stringify(config), /hunter2/);
    assert.doesNotMatch(inspect(config, { depth: 10 }), /hunter2/);
    assert.doesNotMatch(`${config.store.postgresUrl}`, /hunter2/);
  });
});
