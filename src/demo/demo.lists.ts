/**
 * The demo school's category lists: a few well-known names per category, so
 * a fresh demo install shows filtering for pupils and staff without
 * downloading anything. Real installs load real lists (the lists module).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CategoryKey } from '../filter/categories.ts';
import { buildCatalog } from '../filter/catalog-build.ts';

export const DEMO_LISTS: Partial<Record<CategoryKey, string[]>> = {
  pornography: ['pornhub.com', 'xvideos.com', 'xhamster.com', 'onlyfans.com'],
  gambling: ['bet365.com', 'williamhill.com', 'paddypower.com', 'pokerstars.com', 'skybet.com'],
  social_networks: ['facebook.com', 'instagram.com', 'tiktok.com', 'snapchat.com', 'x.com', 'twitter.com', 'reddit.com'],
  chat: ['discord.com', 'discord.gg', 'omegle.com', 'telegram.org', 'web.whatsapp.com'],
  games: ['roblox.com', 'epicgames.com', 'fortnite.com', 'poki.com', 'coolmathgames.com', 'miniclip.com'],
  dating: ['tinder.com', 'bumble.com', 'match.com'],
  streaming: ['twitch.tv', 'netflix.com'],
  vpn_proxy: ['nordvpn.com', 'expressvpn.com', 'protonvpn.com', 'hidemyass.com', 'croxyproxy.com'],
  public_dns: ['dns.google', 'cloudflare-dns.com', 'dns.quad9.net', 'doh.opendns.com', 'dns.nextdns.io'],
  malware: ['malware.testing.google.test', 'wicar.org'],
  phishing: ['phishing.example-bank-login.test'],
  ai_chat: ['chatgpt.com', 'character.ai'],
  drugs: ['erowid.org'],
};

/**
 * Compiles the demo lists into the catalog the filter loads (with its "why"
 * index, so `schoolgate lists why` works on the demo), unless a catalog is
 * already there: lists synced before the demo was seeded are kept. Returns
 * the number of names, or null when an existing catalog was kept.
 */
export async function writeDemoCatalog(catalogFile: string, listsDir: string): Promise<number | null> {
  if (existsSync(catalogFile)) return null;
  const dir = path.join(listsDir, 'demo');
  mkdirSync(dir, { recursive: true });
  const sources = Object.entries(DEMO_LISTS).map(([category, names]) => {
    const file = path.join(dir, `${category}.txt`);
    writeFileSync(file, `# Schoolgate demo list: ${category}\n${names.join('\n')}\n`);
    return { name: `demo:${category}`, category: category as CategoryKey, format: 'plain' as const, file };
  });
  mkdirSync(path.dirname(catalogFile), { recursive: true });
  return (await buildCatalog({ sources, outFile: catalogFile })).names;
}
