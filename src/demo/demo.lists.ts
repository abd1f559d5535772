/**
 * The demo school's category lists: a few well-known names per category, so
 * a fresh demo install shows filtering for pupils and staff without
 * downloading anything. Real installs load real lists (the lists module).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CategoryKey } from '../filter/categories.ts';
import { catalogFromEntries } from '../filter/catalog.ts';

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

/** Writes the demo catalog where the filter loads it (atomically). Returns the number of names. */
export function writeDemoCatalog(file: string): number {
  const entries = Object.entries(DEMO_LISTS).flatMap(([category, names]) => names.map((name) => ({ name, category: category as CategoryKey })));
  const catalog = catalogFromEntries(entries);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, new Uint8Array(catalog.buffer));
  renameSync(`${file}.tmp`, file);
  return catalog.size;
}
