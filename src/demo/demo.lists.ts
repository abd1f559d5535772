/**
 * The demo school's category lists: a few well-known names per category, so
 * a fresh demo install shows filtering for pupils and staff without
 * downloading anything. Real installs load real lists (the lists module).
 */
import { existsSync } from 'node:fs';
import type { Schoolgate } from '../app.ts';
import { SYSTEM_ACTOR } from '../auth/auth.context.ts';
import { dataPaths } from '../config/config.ts';
import type { CategoryKey } from '../filter/categories.ts';
import { uploadCandidate } from '../lists/lists.choices.ts';
import { syncLists } from '../lists/lists.sync.ts';

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
 * Adds the demo lists as the school's own uploaded lists (so the Lists page
 * shows them, and every later refresh keeps them in the catalog beside the
 * real lists) and compiles them into the catalog the filter loads, by the
 * same sync as any list. Unless a catalog is already there: lists synced
 * before the demo was seeded are kept as they are. Returns the number of
 * names, or null when an existing catalog was kept.
 */
export async function seedDemoLists(app: Schoolgate, schoolId: string): Promise<number | null> {
  const paths = dataPaths(app.config);
  if (existsSync(paths.catalog)) return null;
  for (const [category, names] of Object.entries(DEMO_LISTS)) {
    const content = `# Schoolgate demo list: ${category}\n${names.join('\n')}\n`;
    await app.listChoices.addOwn(SYSTEM_ACTOR, schoolId, { name: `Demo ${category.replace(/_/g, ' ')}`, use: 'block', category, format: 'plain', content, note: 'well-known names for the demo school' }, 'demo school');
  }
  const selection = await app.listChoices.selection();
  const report = await syncLists({ lists: selection.own, candidate: uploadCandidate(selection), cacheDir: paths.lists, catalogFile: paths.catalog });
  return report.build?.names ?? null;
}
