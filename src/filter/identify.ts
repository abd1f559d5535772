/**
 * Who is asking: a DoH path token (a device or a person, or a ChromeOS
 * identifier hash) or the source address's network. The most specific
 * identity decides whose groups apply: person > device > network.
 *
 * Compiled once per policy snapshot; lookups are cached per address and per
 * token hash, so the hot path does a Map lookup for a client it has seen.
 */
import { createHash } from 'node:crypto';
import { matchNetwork } from '../shared/cidr.ts';
import type { DeviceEntry, NetworkEntry, PersonEntry, PolicySnapshot } from './policy.types.ts';

/** The identity the policy is resolved for. */
export interface Identity {
  personId: string | null;
  deviceId: string | null;
  networkId: string | null;
  /** The groups that apply, from the most specific identity that has any. */
  groupIds: readonly string[];
  /** Whether the per-client rate limit applies. */
  rateLimited: boolean;
}

/** Finds identities in a snapshot. */
export interface Identifier {
  /** The client behind a plain DNS query from `address`; null when it is not ours to answer (REFUSED). */
  byAddress(address: string): Identity | null;
  /**
   * The client behind a DoH/DoT token seen from `address`: a device or person
   * token, or a ChromeOS identifier hash. Null when the token is unknown.
   */
  byToken(token: string, address: string): Identity | null;
  /** Whether `address` is a forwarder whose client-subnet option is believed (RFC 7871). */
  trustsClientSubnet(address: string): boolean;
}

const CACHE_LIMIT = 65_536;
const CHROMEOS_HASH = /^[0-9A-F]{64}$/;

/** SHA-256 of a token as stored in snapshots (lower-case hex). */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function compileIdentifier(snapshot: PolicySnapshot): Identifier {
  const forwarders = snapshot.trustedForwarders.map((cidr) => ({ cidr }));
  const people = new Map<string, PersonEntry>(snapshot.people.map((p) => [p.id, p]));
  const devices = new Map<string, DeviceEntry>(snapshot.devices.map((d) => [d.id, d]));
  const tokens = new Map(snapshot.tokens.map((t) => [t.tokenHash, t]));
  const chromeos = new Map<string, PersonEntry>();
  for (const person of snapshot.people) if (person.chromeosHash) chromeos.set(person.chromeosHash, person);
  const fallbackGroups = snapshot.defaultGroupId ? [snapshot.defaultGroupId] : [];

  const byAddressCache = new Map<string, Identity | null>();
  const byTokenCache = new Map<string, { personId: string | null; deviceId: string | null } | null>();

  // Both lookups are cached per address below, so the linear scan runs once per client.
  function networkOf(address: string): NetworkEntry | null {
    return matchNetwork(snapshot.networks, address) ?? null;
  }

  function identityOf(personId: string | null, deviceId: string | null, network: NetworkEntry | null, rateLimited: boolean): Identity {
    const person = personId ? people.get(personId) : undefined;
    const device = deviceId ? devices.get(deviceId) : undefined;
    const networkGroups = network?.groupId ? [network.groupId] : fallbackGroups;
    const groupIds = person?.groupIds.length ? person.groupIds : device?.groupIds.length ? device.groupIds : networkGroups;
    return { personId: person?.id ?? null, deviceId: device?.id ?? null, networkId: network?.id ?? null, groupIds, rateLimited };
  }

  function remember<V>(cache: Map<string, V>, key: string, value: V): V {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, value);
    return value;
  }

  return {
    byAddress(address) {
      const cached = byAddressCache.get(address);
      if (cached !== undefined) return cached;
      const network = networkOf(address);
      let identity: Identity | null = null;
      if (network) identity = identityOf(null, null, network, network.rateLimited);
      else if (snapshot.answerAnyClient) identity = identityOf(null, null, null, true);
      return remember(byAddressCache, address, identity);
    },

    byToken(token, address) {
      // ChromeOS identifiers are already hashes (uppercase hex SHA-256 of salt ‖ email).
      const key = CHROMEOS_HASH.test(token) ? `c:${token}` : `t:${tokenHash(token)}`;
      let who = byTokenCache.get(key);
      if (who === undefined) {
        who = null;
        if (key.startsWith('c:')) {
          const person = chromeos.get(token);
          if (person) who = { personId: person.id, deviceId: null };
        } else {
          const entry = tokens.get(key.slice(2));
          if (entry) {
            // A one-to-one device speaks for its owner; a shared device for itself.
            const owner = entry.deviceId ? devices.get(entry.deviceId)?.ownerId ?? null : null;
            who = { personId: entry.personId ?? owner, deviceId: entry.deviceId };
          }
        }
        remember(byTokenCache, key, who);
      }
      if (!who) return null;
      const network = networkOf(address);
      // Off the school's networks a token client is rate limited; on them, the network's setting holds.
      return identityOf(who.personId, who.deviceId, network, network ? network.rateLimited : true);
    },

    trustsClientSubnet(address) {
      return forwarders.length > 0 && matchNetwork(forwarders, address) !== undefined;
    },
  };
}
