import assert from 'node:assert/strict';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CATEGORY_BIT } from './categories.ts';
import { type BuildReport, buildCatalog, buildCatalogInWorker, type CatalogSourceSpec, readLines } from './catalog-build.ts';
import { CatalogError, explainName, loadCatalog } from './catalog.ts';

const { gambling, drugs, malware, vpn_proxy: vpn, social_networks: social, advertising } = CATEGORY_BIT;

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sg-catalog-build-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function list(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** The report's problems as `line: kind: reason` for one source. */
function problemsOf(report: BuildReport, source: string): string[] {
  return report.rejections.filter((r) => r.source === source).map((r) => `${r.line}: ${r.kind}: ${r.reason}`);
}

describe('buildCatalog: every format, with the mess real lists have', () => {
  let report: BuildReport;
  let outFile: string;
  const sources: CatalogSourceSpec[] = [];
  before(async () => {
    sources.push(
      {
        name: 'plain',
        category: 'gambling',
        format: 'plain',
        // BOM, CRLF, upper case, trailing dot, inline comment, an address, junk, a second word
        file: list(
          'plain.txt',
          '\uFEFFBet.Example\r\n# comment\r\n\r\ncasino.example.   # big casino\r\n203.0.113.9\r\n=====\r\nsnapchat-com\r\nslots.example Plants vs Zombies\r\n' +
            `${'a'.repeat(64)}.example\r\n${'l.'.repeat(130)}example\r\nlast.example`,
        ),
      },
      {
        name: 'hosts',
        category: 'social_networks',
        format: 'hosts',
        exact: true,
        file: list('hosts.txt', '127.0.0.1 localhost\n::1 localhost ip6-localhost\n# Facebook\n0.0.0.0 face.example\n127.0.0.1 a.face.example b.face.example\n0.0.0.0 xxxhindi.example en\n127.0.0.7 odd.example\nbad line here\n'),
      },
      {
        name: 'adblock',
        category: 'drugs',
        format: 'adblock',
        file: list('adblock.txt', '[Adblock Plus 2.0]\n! Title: drugs\n||weed.example^\n|pills.example^\n@@||ok.example^\nexample.org##.ad\n||shop.example/drugs/*\n||x.example^$third-party\n'),
      },
      {
        name: 'dnsmasq',
        category: 'malware',
        format: 'dnsmasq',
        file: list('dnsmasq.txt', '# dnsmasq\nserver=/mal.example/\naddress=/a.mal.example/b.mal.example/0.0.0.0\nserver=/fwd.example/192.0.2.53\naddress=/#/0.0.0.0\nlocal=/loc.example/\n'),
      },
      { name: 'wildcard', category: 'vpn_proxy', format: 'wildcard', file: list('wild.txt', '# wild\n*.proxy.example\ntunnel.example\n*bad.example\n') },
      { name: 'tld', category: 'advertising', format: 'tld', file: list('tld.txt', '#  .com  (not blocked)\n.zip\nmov\n.ru.com      #Russia\n') },
    );
    outFile = path.join(dir, 'formats.bin');
    report = await buildCatalog({ outFile, sources });
  });

  it('stores what each format lists, with its semantics', () => {
    const catalog = loadCatalog(outFile);
    const expect: [string, number][] = [
      ['bet.example', gambling],
      ['www.bet.example', gambling],
      ['casino.example', gambling],
      ['203.0.113.9', gambling],
      ['last.example', gambling],
      ['face.example', social],
      ['m.face.example', 0], // the hosts source is exact
      ['b.face.example', social],
      ['xxxhindi.example', social],
      ['odd.example', social],
      ['weed.example', drugs],
      ['www.weed.example', drugs],
      ['pills.example', drugs],
      ['www.pills.example', 0],
      ['ok.example', 0],
      ['shop.example', 0],
      ['x.example', 0],
      ['mal.example', malware],
      ['deep.b.mal.example', malware],
      ['fwd.example', 0],
      ['www.loc.example', malware],
      ['proxy.example', vpn], // *.x includes the apex
      ['a.proxy.example', vpn],
      ['cdn.tunnel.example', vpn],
      ['anything.zip', advertising],
      ['x.mov', advertising],
      ['site.ru.com', advertising],
      ['example.com', 0],
      ['en', 0],
    ];
    for (const [name, mask] of expect) assert.equal(catalog.lookup(name), mask, name);
  });

  it('reports every line it did not use, with its line number, reason and text', () => {
    assert.deepEqual(problemsOf(report, 'plain'), [
      "6: invalid: character '=' is not allowed in a domain name",
      "7: invalid: single label 'snapchat-com': a whole top-level domain is listed only by a 'tld' list or with a leading dot ('.snapchat-com')",
      '8: invalid: more than one word on the line',
      `9: invalid: label '${'a'.repeat(20)}…' is 64 characters long; the most a label can have is 63`,
      '10: invalid: name is 267 characters long; the most a domain name can have is 253',
    ]);
    assert.deepEqual(problemsOf(report, 'hosts'), [
      "6: invalid: single label 'en': a whole top-level domain is listed only by a 'tld' list or with a leading dot ('.en')",
      "8: invalid: expected an address before the names, found 'bad'",
    ]);
    assert.deepEqual(problemsOf(report, 'adblock'), [
      '5: unsupported: exception rule (@@): allow rules from lists are not used yet',
      '6: unsupported: cosmetic rule (hides page elements): not used by a DNS filter',
      '7: unsupported: a path rule (blocks part of a site): not used by a DNS filter',
      '8: unsupported: modifier $third-party is not supported',
    ]);
    assert.deepEqual(problemsOf(report, 'dnsmasq'), ['4: unsupported: forwards to 192.0.2.53: not a block', '5: invalid: address=/#/ matches every name: refused']);
    assert.deepEqual(problemsOf(report, 'wildcard'), ["4: invalid: '*' is a pattern, not a name (wildcard lists use format 'wildcard')"]);
    assert.deepEqual(problemsOf(report, 'tld'), []);
    const long = report.rejections.find((r) => r.source === 'plain' && r.line === 10);
    assert.equal(long?.text, `${'l.'.repeat(50)}…`, 'text is cut to 100 characters');
    assert.equal(long?.file, sources[0].file);
    assert.equal(report.rejections.find((r) => r.source === 'plain' && r.line === 8)?.text, 'slots.example Plants vs Zombies');
  });

  it('counts lines, names and problems per source and in all', () => {
    assert.deepEqual(
      report.sources.map((s) => [s.name, s.lines, s.names, s.distinct, s.invalid, s.unsupported]),
      [
        ['plain', 11, 4, 4, 5, 0],
        ['hosts', 8, 5, 5, 2, 0],
        ['adblock', 8, 2, 2, 0, 4],
        ['dnsmasq', 6, 4, 4, 1, 1],
        ['wildcard', 4, 2, 2, 1, 0],
        ['tld', 4, 3, 3, 0, 0],
      ],
    );
    assert.equal(report.rejected, 14);
    assert.equal(report.names, 20);
    assert.equal(report.entriesRead, 20);
    assert.equal(report.duplicatesMerged, 0);
    assert.equal(report.bytes, statSync(outFile).size);
    assert.equal(report.whyBytes, statSync(`${outFile}.why`).size);
    assert.ok(report.bytesPerName > 12 && report.bytesPerName <= 16);
  });

  it('explains with line numbers that hold the entry, for every format', async () => {
    for (const [name, entry, line] of [
      ['www.bet.example', 'bet.example', 1],
      ['casino.example', 'casino.example', 4],
      ['b.face.example', 'b.face.example', 5],
      ['www.weed.example', 'weed.example', 3],
      ['x.b.mal.example', 'b.mal.example', 3],
      ['proxy.example', 'proxy.example', 2],
      ['site.ru.com', 'ru.com', 4],
    ] as const) {
      const [found] = await explainName(outFile, name);
      assert.equal(found?.entry, entry, name);
      assert.equal(found.line, line, name);
      const text = readFileSync(found.file ?? '', 'utf8').split('\n')[line - 1];
      assert.ok(text.toLowerCase().includes(entry), `${text} holds ${entry}`);
    }
  });
});

describe('buildCatalog: merging, gzip, limits and failures', () => {
  it('merges duplicates within and across lists, OR-ing masks, and keeps each list’s first line for "why"', async () => {
    const outFile = path.join(dir, 'dupes.bin');
    const report = await buildCatalog({
      outFile,
      sources: [
        { name: 'one', category: 'gambling', format: 'plain', file: list('one.txt', 'x.example\ny.example\nX.example.\n') },
        { name: 'two', category: 'malware', format: 'hosts', file: list('two.txt', '0.0.0.0 y.example x.example\n0.0.0.0 z.example\n') },
      ],
    });
    assert.equal(report.entriesRead, 6);
    assert.equal(report.names, 3);
    assert.equal(report.duplicatesMerged, 3);
    assert.deepEqual(report.sources.map((s) => [s.names, s.distinct]), [[3, 2], [3, 3]]);
    const catalog = loadCatalog(outFile);
    assert.equal(catalog.lookup('x.example'), gambling | malware);
    assert.equal(catalog.lookup('z.example'), malware);
    assert.deepEqual(
      (await explainName(outFile, 'x.example')).map((e) => [e.source, e.line]),
      [
        ['one', 1],
        ['two', 1],
      ],
    );
  });

  it('reads gzip transparently, whatever the file is called, and names a damaged one', async () => {
    const text = '# gz\nzipped.example\nother.example\n';
    const outFile = path.join(dir, 'gz.bin');
    const report = await buildCatalog({
      outFile,
      sources: [
        { name: 'gz', category: 'malware', format: 'plain', file: list('list.txt.gz', gzipSync(text)) },
        { name: 'gz-unnamed', category: 'gambling', format: 'plain', file: list('list-no-suffix', gzipSync('third.example\n')) },
      ],
    });
    assert.equal(report.sources[0].lines, 3);
    const catalog = loadCatalog(outFile);
    assert.equal(catalog.lookup('www.zipped.example'), malware);
    assert.equal(catalog.lookup('third.example'), gambling);
    assert.equal((await explainName(outFile, 'other.example'))[0].line, 3);

    const broken = gzipSync(text.repeat(2000));
    broken.fill(0x55, 40, 80);
    const bad = list('broken.gz', broken);
    await assert.rejects(
      buildCatalog({ outFile: path.join(dir, 'never.bin'), sources: [{ name: 'b', category: 'malware', format: 'plain', file: bad }] }),
      (e: unknown) => e instanceof CatalogError && e.code === 'io' && e.message.startsWith(`${bad}: cannot read the list: the gzip data is damaged`),
    );
    assert.equal(existsSync(path.join(dir, 'never.bin')), false, 'nothing is written when a list cannot be read');
  });

  it('reads the last line without a newline, and passes a line over 1 MiB as a problem', async () => {
    const seen: [number, string | null][] = [];
    const lines = await readLines(list('odd.txt', `a.example\r\n${'x'.repeat((1 << 20) + 10)}\nb.example`), (text, line) => seen.push([line, text]));
    assert.equal(lines, 3);
    assert.deepEqual(
      seen.map(([line, text]) => [line, text === null ? null : text.slice(0, 20)]),
      [
        [1, 'a.example'],
        [2, null],
        [3, 'b.example'],
      ],
    );
    const report = await buildCatalog({ outFile: path.join(dir, 'odd.bin'), sources: [{ name: 'odd', category: 'malware', format: 'plain', file: path.join(dir, 'odd.txt') }] });
    assert.deepEqual(problemsOf(report, 'odd'), ['2: invalid: line longer than 1 MiB (not a text list?)']);
    assert.equal(report.names, 2);
  });

  it('lists the first maxReported problems and counts them all', async () => {
    const report = await buildCatalog({
      outFile: path.join(dir, 'many.bin'),
      maxReported: 3,
      sources: [{ name: 'junk', category: 'malware', format: 'plain', file: list('junk.txt', 'bad name\n'.repeat(50)) }],
    });
    assert.equal(report.rejected, 50);
    assert.deepEqual(report.rejections.map((r) => r.line), [1, 2, 3]);
  });

  it('refuses bad options, saying which, and a missing list, naming it; writes nothing', async () => {
    const outFile = path.join(dir, 'refused.bin');
    await assert.rejects(
      buildCatalog({
        outFile,
        sources: [
          { name: 'a', category: 'gambling', format: 'plain', file: list('a.txt', 'a.example\n') },
          { name: 'a', category: 'weapons' as 'gambling', format: 'csv' as 'plain', file: '' },
        ],
      }),
      (e: unknown) =>
        e instanceof CatalogError &&
        e.code === 'invalid' &&
        JSON.stringify(e.issues) ===
          JSON.stringify([
            { where: 'sources[1].name', message: "the name 'a' is used twice" },
            { where: 'sources[1].category', message: "unknown category 'weapons'" },
            { where: 'sources[1].format', message: "unknown list format 'csv'" },
            { where: 'sources[1].file', message: 'a source needs a file' },
          ]),
    );
    const missing = path.join(dir, 'nope.txt');
    await assert.rejects(
      buildCatalog({ outFile, sources: [{ name: 'm', category: 'gambling', format: 'plain', file: missing }] }),
      (e: unknown) => e instanceof CatalogError && e.code === 'io' && e.message.startsWith(`${missing}: cannot read the list`) && /ENOENT/.test(e.message),
    );
    assert.equal(existsSync(outFile), false);
  });

  it('replaces the files atomically and leaves no temporary files', async () => {
    const outFile = path.join(dir, 'atomic', 'cat.bin');
    rmSync(path.dirname(outFile), { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(path.dirname(outFile)));
    const file = list('atomic.txt', 'first.example\n');
    await buildCatalog({ outFile, sources: [{ name: 'l', category: 'gambling', format: 'plain', file }] });
    const before = loadCatalog(outFile);
    writeFileSync(file, 'second.example\n');
    await buildCatalog({ outFile, sources: [{ name: 'l', category: 'gambling', format: 'plain', file }] });
    const later = loadCatalog(outFile);
    assert.equal(before.lookup('first.example'), gambling, 'a loaded catalog keeps its own memory');
    assert.equal(later.lookup('first.example'), 0);
    assert.equal(later.lookup('second.example'), gambling);
    assert.deepEqual(readdirSync(path.dirname(outFile)).sort(), ['cat.bin', 'cat.bin.why']);
  });

  it('an empty source list builds an empty catalog', async () => {
    const outFile = path.join(dir, 'none.bin');
    const report = await buildCatalog({ outFile, sources: [] });
    assert.equal(report.names, 0);
    assert.equal(loadCatalog(outFile).size, 0);
    assert.deepEqual(await explainName(outFile, 'example.com'), []);
  });
});

describe('buildCatalogInWorker', () => {
  it('builds in a worker thread and resolves with the report', async () => {
    const outFile = path.join(dir, 'worker.bin');
    const report = await buildCatalogInWorker({ outFile, sources: [{ name: 'w', category: 'gambling', format: 'plain', file: list('w.txt', 'w.example\nbad name\n') }] });
    assert.equal(report.names, 1);
    assert.deepEqual(problemsOf(report, 'w'), ['2: invalid: more than one word on the line']);
    assert.equal(loadCatalog(outFile).lookup('www.w.example'), gambling);
  });

  it('builds in a child process when asked, and reports errors the same way', async () => {
    const outFile = path.join(dir, 'process.bin');
    const report = await buildCatalogInWorker({ outFile, sources: [{ name: 'p', category: 'malware', format: 'hosts', file: list('p.txt', '0.0.0.0 p.example\n') }] }, { isolation: 'process' });
    assert.equal(report.names, 1);
    assert.equal(loadCatalog(outFile).lookup('p.example'), malware);
    const missing = path.join(dir, 'absent.txt');
    await assert.rejects(
      buildCatalogInWorker({ outFile, sources: [{ name: 'p', category: 'malware', format: 'hosts', file: missing }] }, { isolation: 'process' }),
      (e: unknown) => e instanceof CatalogError && e.code === 'io' && e.message.startsWith(`${missing}: cannot read the list`),
    );
  });

  it('rejects with the build’s CatalogError', async () => {
    await assert.rejects(
      buildCatalogInWorker({ outFile: path.join(dir, 'worker-bad.bin'), sources: [{ name: 'w', category: 'nope' as 'gambling', format: 'plain', file: 'x' }] }),
      (e: unknown) => e instanceof CatalogError && e.code === 'invalid' && e.issues[0].where === 'sources[0].category',
    );
  });

  it('1,000,000 generated names: build in a worker, load, look up (figures printed, not asserted)', async () => {
    const n = 1_000_000;
    const file = path.join(dir, 'million.txt');
    const out = createWriteStream(file);
    const tlds = ['com', 'net', 'org', 'co.uk'];
    const nameOf = (i: number) => `site${i.toString(36)}.ex${i % 977}.${tlds[i % 4]}`;
    for (let i = 0; i < n; i += 10000) {
      let chunk = '';
      for (let j = i; j < i + 10000; j++) chunk += `${nameOf(j)}\n`;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve) => out.end(() => resolve()));
    const outFile = path.join(dir, 'million.bin');
    const report = await buildCatalogInWorker({ outFile, sources: [{ name: 'generated', category: 'gambling', format: 'plain', file }] });
    assert.equal(report.names, n);
    let started = performance.now();
    const catalog = loadCatalog(outFile);
    const loadMs = performance.now() - started;
    const queries: string[] = [];
    for (let i = 0; i < 100_000; i++) queries.push(i % 2 ? `www.${nameOf((i * 7919) % n)}` : `miss${i}.example${i % 100}.com`);
    let hits = 0;
    for (const q of queries) if (catalog.lookup(q)) hits++; // warm up
    assert.equal(hits, 50_000);
    started = performance.now();
    for (let round = 0; round < 5; round++) for (const q of queries) hits += catalog.lookup(q) ? 1 : 0;
    const rate = (5 * queries.length) / ((performance.now() - started) / 1000);
    console.log(
      `1M names: built in ${report.durationMs} ms (worker), file ${report.bytes} bytes, tables ${report.bytesPerName.toFixed(2)} bytes/name, ` +
        `load ${loadMs.toFixed(1)} ms, ${Math.round(rate).toLocaleString('en-GB')} lookups/s (half hits, 4-5 labels)`,
    );
  });
});
