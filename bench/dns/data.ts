/**
 * The bench's input data, generated from a seed so every peer and every run on
 * every machine gets the same bytes:
 *   blocklist.txt        N unique domains, one a line; each blocks itself and its subdomains
 *   dnsmasq-block.conf   the same list as dnsmasq `address=/d/` lines (NXDOMAIN for d and below)
 *   unbound-block.conf   the same list as unbound `local-zone: "d." always_nxdomain` lines
 *   queries.txt          dnsperf input, alternating: a blocked name (a listed domain, or a
 *                        subdomain of one) and an allowed name from a set of ~10,000 that
 *                        repeats, so every cache warms up
 *   expected.json        a sample of blocked and allowed names for the answer check, and
 *                        the start-up probe's name
 *   manifest.json        the settings that made the files (reused when they match)
 */
import fs from 'node:fs';
import path from 'node:path';

/** Bump when the generator's output changes, so cached data is made again. */
const GENERATOR_VERSION = 1;

/** What to generate. */
export interface DataSettings {
  names: number;
  allowed: number;
  queries: number;
  seed: number;
}

/** Paths and facts the rest of the bench uses. */
export interface BenchData {
  dir: string;
  blockList: string;
  dnsmasqConf: string;
  unboundConf: string;
  queries: string;
  /** A subdomain of the last listed domain: the start-up probe asks for it until it is answered as blocked. */
  probeName: string;
  blockedSample: string[];
  allowedSample: string[];
  settings: DataSettings;
  /** Seconds spent generating, 0 when the files were reused. */
  generatedInS: number;
}

/** SplitMix32: tiny, fast and the same everywhere; Math.random cannot be seeded. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

// Pieces for names that look like the ones in real block lists (made-up words, hosts, TLDs).
const CONSONANTS = ['b', 'c', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'bl', 'ch', 'cr', 'gr', 'pr', 'sh', 'st', 'tr'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ee', 'oo', 'y'];
const TOPICS = ['ad', 'ads', 'bet', 'casino', 'chat', 'click', 'deal', 'free', 'game', 'pixel', 'poker', 'proxy', 'stream', 'track', 'video', 'vpn', 'win'];
const HOSTS = ['www', 'ads', 'api', 'cdn', 'img', 'm', 'metrics', 'pixel', 'static', 'stats', 'track', 'ws'];
const SUBDOMAINS = ['www', 'cdn', 'api', 'img', 'm', 'x', 'eu', 'login', 'media'];
const TLDS: ReadonlyArray<readonly [string, number]> = [
  ['com', 40], ['net', 10], ['org', 6], ['co.uk', 5], ['io', 3], ['xyz', 4], ['info', 4], ['ru', 3], ['de', 3],
  ['top', 3], ['online', 2], ['site', 2], ['fr', 2], ['cn', 2], ['biz', 2], ['club', 2], ['tv', 1], ['me', 1],
];

/** Makes the name generator for one seed. */
function nameMaker(random: () => number) {
  const pick = <T>(items: ReadonlyArray<T>): T => items[Math.floor(random() * items.length)];
  const tldTotal = TLDS.reduce((sum, [, weight]) => sum + weight, 0);
  const tld = (): string => {
    let r = random() * tldTotal;
    for (const [name, weight] of TLDS) if ((r -= weight) < 0) return name;
    return 'com';
  };
  const word = (syllables: number): string => {
    let w = '';
    for (let i = 0; i < syllables; i++) w += pick(CONSONANTS) + pick(VOWELS);
    return random() < 0.4 ? w + pick(CONSONANTS) : w;
  };
  const label = (): string => {
    const r = random();
    if (r < 0.5) return word(2 + Math.floor(random() * 3));
    if (r < 0.7) return `${word(1 + Math.floor(random() * 2))}-${word(1 + Math.floor(random() * 2))}`;
    if (r < 0.9) return pick(TOPICS) + word(1 + Math.floor(random() * 2));
    return word(2) + Math.floor(random() * 1000);
  };
  const registered = (): string => `${label()}.${tld()}`;
  return {
    pick,
    registered,
    /** A list entry: mostly registered domains, some hosts under one. */
    listed(): string {
      const r = random();
      if (r < 0.65) return registered();
      if (r < 0.95) return `${pick(HOSTS)}.${registered()}`;
      return `${pick(HOSTS)}${Math.floor(random() * 10)}.${pick(HOSTS)}.${registered()}`;
    },
    /** A popular allowed site: bare, www. or another host. */
    popular(): string {
      const r = random();
      const base = registered();
      return r < 0.4 ? base : r < 0.8 ? `www.${base}` : `${pick(SUBDOMAINS)}.${base}`;
    },
  };
}

/** Writes lines through a buffer: 1,000,000 writeSync calls would take longer than making the names. */
function writeLines(file: string, count: number, line: (i: number) => string): void {
  const fd = fs.openSync(file, 'w');
  try {
    let chunk = '';
    for (let i = 0; i < count; i++) {
      chunk += line(i) + '\n';
      if (chunk.length > 1 << 20) {
        fs.writeSync(fd, chunk);
        chunk = '';
      }
    }
    fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether a name, or any domain above it, is in the list (the semantics every peer is configured with). */
function isListed(list: Set<string>, name: string): boolean {
  let suffix = name;
  for (;;) {
    if (list.has(suffix)) return true;
    const dot = suffix.indexOf('.');
    if (dot < 0) return false;
    suffix = suffix.slice(dot + 1);
  }
}

/** Generates the files into dir, or reuses them when dir already holds the same settings. */
export function ensureData(dir: string, settings: DataSettings): BenchData {
  const paths = {
    dir,
    blockList: path.join(dir, 'blocklist.txt'),
    dnsmasqConf: path.join(dir, 'dnsmasq-block.conf'),
    unboundConf: path.join(dir, 'unbound-block.conf'),
    queries: path.join(dir, 'queries.txt'),
  };
  const manifestFile = path.join(dir, 'manifest.json');
  const expectedFile = path.join(dir, 'expected.json');
  const wanted = JSON.stringify({ version: GENERATOR_VERSION, ...settings });
  if (fs.existsSync(manifestFile) && fs.readFileSync(manifestFile, 'utf8').trim() === wanted) {
    const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8'));
    return { ...paths, ...expected, settings, generatedInS: 0 };
  }

  const started = performance.now();
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(manifestFile, { force: true }); // half-written data is never mistaken for a finished set
  const random = seededRandom(settings.seed);
  const make = nameMaker(random);

  const listed = new Set<string>();
  const list: string[] = [];
  while (list.length < settings.names) {
    const name = make.listed();
    if (listed.has(name)) continue;
    listed.add(name);
    list.push(name);
  }
  const allowed: string[] = [];
  const allowedSet = new Set<string>();
  while (allowed.length < settings.allowed) {
    const name = make.popular();
    if (allowedSet.has(name) || isListed(listed, name)) continue;
    allowedSet.add(name);
    allowed.push(name);
  }
  // A blocked query is a listed domain itself three times in four, else a subdomain of one.
  const blockedQuery = (): string => {
    const entry = list[Math.floor(random() * list.length)];
    return random() < 0.75 ? entry : `${make.pick(SUBDOMAINS)}.${entry}`;
  };

  writeLines(paths.blockList, list.length, (i) => list[i]);
  writeLines(paths.dnsmasqConf, list.length, (i) => `address=/${list[i]}/`);
  writeLines(paths.unboundConf, list.length, (i) => `local-zone: "${list[i]}." always_nxdomain`);
  writeLines(paths.queries, settings.queries, (i) => `${i % 2 === 0 ? blockedQuery() : make.pick(allowed)} A`);

  const blockedSample = Array.from({ length: 100 }, blockedQuery);
  const allowedSample = Array.from({ length: 100 }, () => make.pick(allowed));
  const expected = { probeName: `bench-probe.${list[list.length - 1]}`, blockedSample, allowedSample };
  fs.writeFileSync(expectedFile, JSON.stringify(expected, null, 1) + '\n');
  fs.writeFileSync(manifestFile, wanted + '\n');
  return { ...paths, ...expected, settings, generatedInS: (performance.now() - started) / 1000 };
}
