/**
 * The policy of `schoolgate filter serve`: one group, the given block lists
 * (category `custom`) and `illegal` blocked for every client on loopback; no
 * one else is answered. The same pipeline as the full server runs it.
 */
import type { PolicySnapshot } from './policy.types.ts';

export function standaloneSnapshot(options: { networks?: string[] } = {}): PolicySnapshot {
  const networks = options.networks ?? ['127.0.0.0/8', '::1/128'];
  return {
    version: 1,
    schoolId: 'standalone',
    timeZone: 'Europe/London',
    calendar: { terms: [], closures: [] },
    groups: [
      {
        groupId: 'everyone',
        name: 'Everyone',
        priority: 1,
        blocked: ['illegal', 'custom'],
        scheduled: [],
        allow: [],
        deny: [],
        safeSearch: false,
        youtube: 'off',
        filterOff: false,
      },
    ],
    schedules: [],
    defaultGroupId: 'everyone',
    networks: networks.map((cidr, i) => ({ id: `network-${i + 1}`, name: cidr, cidr, groupId: 'everyone', rateLimited: false })),
    people: [],
    devices: [],
    tokens: [],
    chromeosSalt: null,
    schoolAllow: [],
    schoolDeny: [],
    neverBlock: [],
    exemptions: [],
    sanctions: [],
    blocking: { answer: 'null', ipv4: null, ipv6: null, ttl: 10 },
    trustedForwarders: [],
    conditionalForwarders: [],
    answerAnyClient: false,
  };
}
