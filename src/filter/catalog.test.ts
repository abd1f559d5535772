import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { crc32, gunzipSync } from 'node:zlib';
import { CATEGORY_BIT, CATEGORY_KEYS } from './categories.ts';
import { buildCatalog } from './catalog-build.ts';
import { Catalog, CATALOG_FORMAT_VERSION, CatalogError, catalogFromEntries, catalogFromShared, emptyCatalog, explainName, loadCatalog } from './catalog.ts';

const { gambling, chat, malware, drugs, games, social_networks: social, vpn_proxy: vpn, pornography } = CATEGORY_BIT;

describe('catalogFromEntries: matching', () => {
  const catalog = catalogFromEntries([
    { name: 'example.com', category: 'gambling' },
    { name: 'www.example.com', category: 'chat' },
    { name: 'Only.Example.org.', category: 'malware', exact: true },
    { name: '192.0.2.1', category: 'malware' },
    { name: '2001:DB8::0:1', category: 'drugs' },
    { name: 'deep.example', category: 'games' },
    { name: 'a\\032b.example.net', category: 'chat', exact: true },
    { name: 'example.com', category: 'drugs' },
    { name: 'zip', category: 'vpn_proxy' },
  ]);

  it('covers a name and its subdomains, and nothing else', () => {
    assert.equal(catalog.lookup('example.com'), gambling | drugs);
    assert.equal(catalog.lookup('shop.example.com'), gambling | drugs);
    assert.equal(catalog.lookup('a.b.c.example.com'), gambling | drugs);
    assert.equal(catalog.lookup('notexample.com'), 0);
    assert.equal(catalog.lookup('example.com.evil.net'), 0);
    assert.equal(catalog.lookup('com'), 0);
    assert.equal(catalog.lookup('example.org'), 0);
    assert.equal(catalog.lookup('anything.zip'), vpn, 'a whole TLD');
  });

  it('ORs the masks of every covering entry (the name and its parents)', () => {
    assert.equal(catalog.lookup('www.example.com'), gambling | drugs | chat);
    assert.equal(catalog.lookup('img.www.example.com'), gambling | drugs | chat);
  });

  it('matches exact-only entries and addresses for the name itself only', () => {
    assert.equal(catalog.lookup('only.example.org'), malware);
    assert.equal(catalog.lookup('sub.only.example.org'), 0);
    assert.equal(catalog.lookup('192.0.2.1'), malware);
    assert.equal(catalog.lookup('192.0.2.10'), 0);
    assert.equal(catalog.lookup('10.192.0.2.1'), 0);
    assert.equal(catalog.lookup('2001:db8::1'), drugs, 'addresses are stored in canonical text');
  });

  it('walks deep names, the root, escaped bytes, upper case and a trailing dot', () => {
    const deep = `${'a.'.repeat(125)}deep.example`;
    assert.equal(deep.split('.').length, 127);
    assert.equal(catalog.lookup(deep), games);
    assert.equal(catalog.lookup(''), 0);
    assert.equal(catalog.lookup('.'), 0);
    assert.equal(catalog.lookup('a\\032b.example.net'), chat, 'an exact entry written with wire escapes');
    assert.equal(catalog.lookup('x\\000y.example.com'), gambling | drugs, 'an escaped byte in a label under a listed parent');
    assert.equal(catalog.lookup('evil\\046example.com'), 0, 'an escaped dot is not a label boundary');
    assert.equal(catalog.lookup('WWW.Example.COM.'), gambling | drugs | chat);
  });

  it('matchedEntry gives the most specific entry carrying the bit', () => {
    assert.equal(catalog.matchedEntry('img.www.example.com', gambling), 'example.com');
    assert.equal(catalog.matchedEntry('img.www.example.com', chat), 'www.example.com');
    assert.equal(catalog.matchedEntry('img.www.example.com', gambling | chat), 'www.example.com');
    assert.equal(catalog.matchedEntry('example.com', drugs), 'example.com');
    assert.equal(catalog.matchedEntry('img.www.example.com', malware), null);
    assert.equal(catalog.matchedEntry('only.example.org', malware), 'only.example.org');
    assert.equal(catalog.matchedEntry('sub.only.example.org', malware), null);
    assert.equal(catalog.matchedEntry('Shop.Example.COM.', gambling), 'example.com');
    assert.equal(catalog.matchedEntry('', gambling), null);
    assert.equal(catalog.matchedEntry('example.com', 0), null);
  });

  it('describes itself: one SharedArrayBuffer, sizes, sources, version', () => {
    assert.ok(catalog.buffer instanceof SharedArrayBuffer);
    assert.equal(catalog.size, 8, 'example.com from two categories is one entry');
    assert.ok(catalog.bytes >= 12 * 8 && catalog.bytes < 16 * 8 + 64);
    assert.equal(catalog.version, CATALOG_FORMAT_VERSION);
    assert.match(catalog.builtAt, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(
      catalog.sources.map((s) => [s.name, s.names]),
      [
        ['entries:gambling', 1],
        ['entries:chat', 2],
        ['entries:malware', 2],
        ['entries:drugs', 2],
        ['entries:games', 1],
        ['entries:vpn_proxy', 1],
      ],
    );
  });

  it('an empty catalog matches nothing', () => {
    const empty = emptyCatalog();
    assert.equal(empty.size, 0);
    assert.equal(empty.lookup('example.com'), 0);
    assert.equal(empty.matchedEntry('example.com', -1), null);
  });

  it('refuses entries it cannot store', () => {
    assert.throws(() => catalogFromEntries([{ name: '.', category: 'gambling' }]), /entry 0: empty name/);
    assert.throws(() => catalogFromEntries([{ name: 'x.com', category: 'nope' as 'gambling' }]), /unknown category 'nope'/);
  });
});

describe('catalog files', () => {
  let dir: string;
  let file: string;
  let lists: Record<string, string>;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sg-catalog-'));
    lists = {
      gambling: ['# gambling', 'bet.example', 'casino.example', 'Poker.Example.', '198.51.100.7'].join('\n'),
      social: ['0.0.0.0 social.example', '0.0.0.0 www.social.example', '127.0.0.1 localhost'].join('\n'),
      drugs: ['! drugs', '||casino.example^', '|pills.example^', '||weed.example^'].join('\n'),
    };
    for (const [name, text] of Object.entries(lists)) writeFileSync(path.join(dir, `${name}.txt`), `${text}\n`);
    file = path.join(dir, 'catalog.bin');
    await buildCatalog({
      outFile: file,
      sources: [
        { name: 'gambling list', category: 'gambling', format: 'plain', file: path.join(dir, 'gambling.txt') },
        { name: 'social hosts', category: 'social_networks', format: 'hosts', exact: true, file: path.join(dir, 'social.txt') },
        { name: 'drugs adblock', category: 'drugs', format: 'adblock', file: path.join(dir, 'drugs.txt') },
      ],
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('round trip: build, load, look up', () => {
    const catalog = loadCatalog(file);
    assert.ok(catalog.buffer instanceof SharedArrayBuffer);
    assert.equal(catalog.size, 8);
    assert.equal(catalog.lookup('bet.example'), gambling);
    assert.equal(catalog.lookup('www.bet.example'), gambling);
    assert.equal(catalog.lookup('a.casino.example'), gambling | drugs, 'the same domain in two lists is one entry, masks OR-ed');
    assert.equal(catalog.lookup('poker.example'), gambling);
    assert.equal(catalog.lookup('198.51.100.7'), gambling);
    assert.equal(catalog.lookup('social.example'), social);
    assert.equal(catalog.lookup('m.social.example'), 0, 'the hosts source is marked exact');
    assert.equal(catalog.lookup('pills.example'), drugs);
    assert.equal(catalog.lookup('www.pills.example'), 0, '|x^ is exact');
    assert.equal(catalog.lookup('localhost'), 0);
    assert.equal(catalog.lookup('example'), 0);
    const deep = `${'x.'.repeat(125)}weed.example`;
    assert.equal(deep.split('.').length, 127);
    assert.equal(catalog.lookup(deep), drugs, 'a name of 127 labels');
    assert.equal(catalog.lookup(''), 0, 'the root');
    assert.equal(catalog.lookup('a\\000\\255.weed.example'), drugs, 'escaped bytes in a label');
    assert.equal(catalog.lookup('weed\\046example'), 0, 'an escaped dot does not split labels');
    assert.deepEqual(
      catalog.sources.map((s) => [s.name, s.category, s.format, s.exact, s.names]),
      [
        ['gambling list', 'gambling', 'plain', false, 4],
        ['social hosts', 'social_networks', 'hosts', true, 2],
        ['drugs adblock', 'drugs', 'adblock', false, 3],
      ],
    );
  });

  it('is shared with a worker thread without a copy, and answers the same there', async () => {
    const catalog = loadCatalog(file);
    const names = ['bet.example', 'a.casino.example', 'social.example', 'm.social.example', 'pills.example', '198.51.100.7', 'nothing.example'];
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.module).then(({ catalogFromShared }) => {
        const catalog = catalogFromShared(workerData.buffer);
        parentPort.postMessage({
          shared: catalog.buffer === workerData.buffer && catalog.buffer instanceof SharedArrayBuffer,
          masks: workerData.names.map((n) => catalog.lookup(n)),
          matched: catalog.matchedEntry('a.casino.example', ${drugs}),
        });
      });`;
    const worker = new Worker(code, { eval: true, workerData: { buffer: catalog.buffer, names, module: new URL('./catalog.ts', import.meta.url).href } });
    const reply = await new Promise<{ shared: boolean; masks: number[]; matched: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.equal(reply.shared, true);
    assert.deepEqual(reply.masks, names.map((n) => catalog.lookup(n)));
    assert.deepEqual(reply.masks, [gambling, gambling | drugs, social, 0, drugs, gambling, 0]);
    assert.equal(reply.matched, 'casino.example');
  });

  it('explainName gives every list line behind a name, and those lines hold the entry', async () => {
    const explained = await explainName(file, 'www.A.casino.example.');
    assert.deepEqual(
      explained.map((e) => [e.entry, e.source, e.category, e.line, e.exact, e.via]),
      [
        ['casino.example', 'gambling list', 'gambling', 3, false, 'parent'],
        ['casino.example', 'drugs adblock', 'drugs', 2, false, 'parent'],
      ],
    );
    for (const e of [...explained, ...(await explainName(file, 'social.example')), ...(await explainName(file, 'pills.example')), ...(await explainName(file, '198.51.100.7'))]) {
      assert.ok(e.file);
      const line = readFileSync(e.file, 'utf8').split('\n')[e.line - 1];
      assert.ok(line.toLowerCase().includes(e.entry), `${e.file}:${e.line} '${line}' holds ${e.entry}`);
    }
    assert.deepEqual(
      (await explainName(file, 'social.example')).map((e) => [e.entry, e.line, e.exact, e.via]),
      [['social.example', 1, true, 'name']],
    );
    assert.deepEqual(
      (await explainName(file, '198.51.100.7')).map((e) => [e.entry, e.line, e.exact, e.via]),
      [['198.51.100.7', 5, true, 'name']],
    );
    assert.deepEqual(await explainName(file, 'm.social.example'), [], 'an exact entry explains nothing for a subdomain');
    assert.deepEqual(await explainName(file, 'unlisted.example'), []);
  });

  it('explainName refuses a .why index from another build, or none', async () => {
    const other = path.join(dir, 'other.bin');
    await buildCatalog({ outFile: other, sources: [{ name: 'g', category: 'gambling', format: 'plain', file: path.join(dir, 'gambling.txt') }] });
    copyFileSync(`${file}.why`, `${other}.why`);
    await assert.rejects(explainName(other, 'bet.example'), (e: unknown) => e instanceof CatalogError && e.code === 'stale' && /does not belong to .*other\.bin.*rebuild/.test(e.message));
    rmSync(`${other}.why`);
    await assert.rejects(explainName(other, 'bet.example'), (e: unknown) => e instanceof CatalogError && e.code === 'io' && e.message.includes('other.bin.why'));
  });

  describe('a damaged or foreign file gives a clear error naming it', () => {
    const damaged = (name: string, change: (bytes: Buffer) => Buffer) => {
      const target = path.join(dir, name);
      writeFileSync(target, change(readFileSync(file)));
      return target;
    };
    const refuses = (target: string, code: CatalogError['code'], pattern: RegExp) =>
      assert.throws(
        () => loadCatalog(target),
        (e: unknown) => e instanceof CatalogError && e.code === code && e.message.startsWith(`${target}: `) && pattern.test(e.message),
      );
    /** Rewrites the header with other metadata or version, with valid checksums: a well-formed but foreign file. */
    const reheader = (bytes: Buffer, edit: { keys?: string[]; version?: number }) => {
      const headerBytes = bytes.readUInt32LE(12);
      const meta = JSON.parse(bytes.toString('utf8', 56, 56 + bytes.readUInt32LE(16)));
      if (edit.keys) meta.categoryKeys = edit.keys;
      const json = Buffer.from(JSON.stringify(meta));
      const newHeaderBytes = Math.ceil((56 + json.length) / 8) * 8;
      const out = Buffer.alloc(newHeaderBytes + bytes.length - headerBytes);
      bytes.copy(out, 0, 0, 56);
      json.copy(out, 56);
      bytes.copy(out, newHeaderBytes, headerBytes);
      out.writeUInt32LE(newHeaderBytes, 12);
      out.writeUInt32LE(json.length, 16);
      if (edit.version) out.writeUInt32LE(edit.version, 8);
      out.writeUInt32LE(crc32(out.subarray(56, newHeaderBytes), crc32(out.subarray(0, 52))), 52);
      return out;
    };

    it('truncated', () => {
      refuses(damaged('short.bin', (b) => b.subarray(0, b.length - 10)), 'corrupt', /truncated: \d+ bytes, expected \d+ for 8 names/);
      refuses(damaged('tiny.bin', (b) => b.subarray(0, 30)), 'corrupt', /truncated: 30 bytes, shorter than a catalog header/);
      refuses(damaged('empty.bin', () => Buffer.alloc(0)), 'corrupt', /truncated: 0 bytes/);
      refuses(damaged('headonly.bin', (b) => b.subarray(0, 80)), 'corrupt', /truncated: 80 bytes, the header alone needs/);
    });

    it('a flipped byte anywhere', () => {
      const size = readFileSync(file).length;
      const headerBytes = readFileSync(file).readUInt32LE(12);
      refuses(damaged('flip-body.bin', (b) => ((b[size - 5] ^= 0x10), b)), 'corrupt', /table checksum mismatch: the file is damaged; rebuild it/);
      refuses(damaged('flip-dir.bin', (b) => ((b[headerBytes + 1] ^= 0x01), b)), 'corrupt', /table checksum mismatch/);
      refuses(damaged('flip-meta.bin', (b) => ((b[60] ^= 0x02), b)), 'corrupt', /header checksum mismatch/);
      refuses(damaged('flip-count.bin', (b) => ((b[20] ^= 0x01), b)), 'corrupt', /header checksum mismatch/);
      // Every single byte: never a crash, never a catalog.
      const original = readFileSync(file);
      for (let i = 0; i < original.length; i++) {
        const copy = Buffer.from(original);
        copy[i] ^= 0x40;
        const target = path.join(dir, 'flip-any.bin');
        writeFileSync(target, copy);
        assert.throws(() => loadCatalog(target), CatalogError, `byte ${i}`);
      }
    });

    it('wrong magic, trailing bytes, another format version, other category keys, no file', () => {
      refuses(damaged('magic.bin', (b) => (b.write('NOTACATL', 0, 'latin1'), b)), 'corrupt', /not a Schoolgate category catalog \(wrong magic bytes\)/);
      refuses(damaged('text.bin', () => Buffer.from('example.com\n'.repeat(20))), 'corrupt', /wrong magic bytes/);
      refuses(damaged('trailing.bin', (b) => Buffer.concat([b, Buffer.from('xx')])), 'corrupt', /2 unexpected bytes after the tables/);
      refuses(damaged('v2.bin', (b) => reheader(b, { version: 2 })), 'stale', /format version 2: this Schoolgate reads version 1; rebuild the catalog/);
      const otherKeys = [...CATEGORY_KEYS.slice(0, 5), 'weapons', ...CATEGORY_KEYS.slice(5)];
      refuses(damaged('keys.bin', (b) => reheader(b, { keys: otherKeys })), 'stale', /built with categories \[illegal, .*weapons.*\] but this Schoolgate has \[illegal, .*\]: rebuild the catalog from its lists/);
      assert.equal(loadCatalog(damaged('control.bin', (b) => reheader(b, {}))).size, 8, 'the rewritten header itself is readable: the edits are what is refused');
      const missing = path.join(dir, 'missing.bin');
      refuses(missing, 'io', /cannot open the catalog: ENOENT/);
    });

    it('catalogFromShared checks the header of what it is given', () => {
      const bytes = readFileSync(file);
      const shared = new SharedArrayBuffer(bytes.length);
      new Uint8Array(shared).set(bytes);
      assert.ok(catalogFromShared(shared) instanceof Catalog);
      new Uint8Array(shared)[0] = 0;
      assert.throws(() => catalogFromShared(shared), /shared catalog: not a Schoolgate category catalog/);
    });
  });
});

const DATA = '/work/shared/data';
const dataMissing = existsSync(path.join(DATA, 'MANIFEST.tsv')) ? false : `the shared list data (${DATA}) is not on this machine`;

describe('real lists from shared/data', { skip: dataMissing }, () => {
  it('compiles UT1 gambling, Block List Project drugs (adblock), Sinfonietta porn (hosts) and ShadowWhisperer TLDs, and finds their names', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-catalog-real-'));
    try {
      const outFile = path.join(dir, 'real.bin');
      const report = await buildCatalog({
        outFile,
        sources: [
          { name: 'ut1 gambling', category: 'gambling', format: 'plain', file: path.join(DATA, 'ut1/gambling/domains.gz') },
          { name: 'bp drugs', category: 'drugs', format: 'adblock', file: path.join(DATA, 'blocklistproject/adguard/drugs-ags.txt.gz') },
          { name: 'sinf porn', category: 'pornography', format: 'hosts', exact: true, file: path.join(DATA, 'sinfonietta/pornography-hosts.gz') },
          { name: 'sw tld', category: 'vpn_proxy', format: 'tld', file: path.join(DATA, 'shadowwhisperer/Lists/Top_Level.gz') },
        ],
      });
      const ut1 = report.sources[0];
      assert.equal(ut1.lines, 32247);
      assert.equal(ut1.names + ut1.invalid, 32247, 'every UT1 line is a name or a reported problem');
      assert.ok(report.sources[1].names > 26000);
      assert.ok(report.sources[3].names > 1200);
      const catalog = loadCatalog(outFile);
      assert.equal(catalog.lookup('bet365.com') & gambling, gambling);
      assert.equal(catalog.lookup('www.williamhill.com') & gambling, gambling);
      assert.equal(catalog.lookup('epuhthicvo.bestinfox.su') & drugs, drugs);
      assert.equal(catalog.lookup('159.153.253.16') & gambling, gambling, 'UT1 addresses are address entries');
      assert.equal(catalog.lookup('ehentai.to') & pornography, pornography, 'upper case in the list');
      assert.equal(catalog.lookup('anything.zip') & vpn, vpn);
      assert.equal(catalog.lookup('bbc.co.uk'), 0);
      assert.equal(catalog.lookup('www.gov.uk'), 0);
      const why = await explainName(outFile, 'www.pokerstars.com');
      assert.deepEqual(why.map((e) => [e.entry, e.source, e.line]), [['pokerstars.com', 'ut1 gambling', 24774]]);
      assert.equal(gunzipSync(readFileSync(path.join(DATA, 'ut1/gambling/domains.gz'))).toString('utf8').split('\n')[24773], 'pokerstars.com');
      console.log(`real lists: ${report.names} names from ${report.entriesRead} entries, ${report.rejected} problem lines, ${report.bytesPerName.toFixed(2)} bytes/name, built in ${report.durationMs} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
