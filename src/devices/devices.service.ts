/**
 * Devices (minimal, issue 4): the school's devices, each with an optional
 * owner and group, and a DNS-over-HTTPS path token that identifies the device
 * to the filter (`/dns-query/<token>`). The token is shown once, at creation
 * or rotation, and never stored or logged: only its SHA-256 is kept. Deleting
 * is retiring (`retired_at`): a retired device drops out of the filter but its
 * record stays for the asset history. A later issue adds assignments, loans
 * and loss; this module keeps to what the filter needs.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import type { PeopleService } from '../people/people.service.ts';
import type { SchoolsService } from '../schools/schools.service.ts';
import { conflict, type Issue, invalid, notFound } from '../shared/errors.ts';
import { parseOrThrow } from '../shared/schema.ts';
import { nowIso } from '../store/column-types.ts';
import type { Database, Db, Store } from '../store/store.ts';
import { appleDohProfile } from './devices.mobileconfig.ts';
import { deviceCreateSchema, devicePatchSchema } from './devices.schema.ts';
import type { DevicesTable, Platform } from './devices.tables.ts';

/** A device as services and routes see it (no token hash). */
export interface Device {
  id: string;
  name: string;
  assetTag: string | null;
  serial: string | null;
  platform: Platform;
  ownerId: string | null;
  groupId: string | null;
  tokenRotatedAt: string;
  createdAt: string;
  updatedAt: string;
  retiredAt: string | null;
}

/** What is needed to add a device. */
export interface DeviceInput {
  name: string;
  platform: Platform;
  assetTag?: string | null;
  serial?: string | null;
  ownerId?: string | null;
  groupId?: string | null;
}

/** A device in service (not retired) as the filter's snapshot needs it. */
export interface FilterDevice {
  id: string;
  name: string;
  groupId: string | null;
  ownerId: string | null;
  tokenHash: string;
}

/** A freshly issued token: shown to the caller once, never again. */
export interface IssuedToken {
  device: Device;
  token: string;
}

/** The platforms an Apple configuration profile installs on. */
export const APPLE_PLATFORMS: readonly Platform[] = ['ios', 'ipados', 'macos'];

/** The devices module: the register, DoH tokens and Apple profiles. */
export interface DevicesService {
  /** Adds a device; returns it with its DoH token (shown this once). */
  create(actor: Actor, schoolId: string, input: DeviceInput): Promise<IssuedToken>;
  /** Devices in name order; retired ones only when asked for. */
  list(schoolId: string, options?: { includeRetired?: boolean }): Promise<Device[]>;
  /** One device; not found for another school's. */
  get(schoolId: string, deviceId: string): Promise<Device>;
  update(actor: Actor, schoolId: string, deviceId: string, patch: Partial<DeviceInput>): Promise<Device>;
  /** Issues a new token; the old one stops working with the next snapshot. */
  rotateToken(actor: Actor, schoolId: string, deviceId: string): Promise<IssuedToken>;
  /** Retires a device (the delete of this module): it leaves the filter, its record stays. */
  retire(actor: Actor, schoolId: string, deviceId: string, reason?: string | null): Promise<Device>;
  /**
   * Rotates the token and returns an Apple configuration profile that uses the
   * new one (the token is not stored, so a profile can only be made with a new token).
   */
  appleProfile(actor: Actor, schoolId: string, deviceId: string, baseUrl: string): Promise<{ device: Device; fileName: string; profile: string }>;
  /** Devices in service with their token hashes, in one query (the filter's snapshot). */
  forFilter(schoolId: string): Promise<FilterDevice[]>;
  /** Calls `listener` after every committed change to a school's devices; returns an unsubscribe function. */
  onChange(listener: (schoolId: string) => void): () => void;
}

/** SHA-256 of a token, lower-case hex: what is stored and what the filter compares. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new random token: 32 bytes, base64url (43 characters, safe in a URL path). */
export const newToken = () => randomBytes(32).toString('base64url');

function present(row: DevicesTable): Device {
  return {
    id: row.id,
    name: row.name,
    assetTag: row.asset_tag,
    serial: row.serial,
    platform: row.platform,
    ownerId: row.owner_id,
    groupId: row.group_id,
    tokenRotatedAt: row.token_rotated_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    retiredAt: row.retired_at,
  };
}


const slug = (text: string) => text.toLowerCase().normalize('NFD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'device';

/** Builds the devices service. */
export function createDevicesService(deps: { store: Store; audit: AuditLog; people: PeopleService; schools: SchoolsService }): DevicesService {
  const { audit, people } = deps;
  const db = deps.store.db;
  const listeners = new Set<(schoolId: string) => void>();

  function changed(schoolId: string) {
    for (const listener of listeners) {
      try {
        listener(schoolId);
      } catch {
        // A listener's failure must not turn a committed change into an error.
      }
    }
  }

  async function requireRow(trx: Db, schoolId: string, id: string): Promise<DevicesTable> {
    const row = await trx.selectFrom('devices').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Device');
    return row;
  }

  /** Owner and group must be the school's own; checked before the transaction (other modules' reads). */
  async function checkLinks(schoolId: string, ownerId: string | null | undefined, groupId: string | null | undefined) {
    const issues: Issue[] = [];
    if (ownerId && !(await people.getPerson(schoolId, ownerId))) issues.push({ where: 'ownerId', message: 'no such person' });
    if (groupId && !(await people.listGroups(schoolId)).some((g) => g.id === groupId)) issues.push({ where: 'groupId', message: 'no such group' });
    if (issues.length) throw invalid(`The device is not valid: ${issues.map((i) => `${i.where} ${i.message}`).join('; ')}`, issues);
  }

  async function checkAssetTagFree(trx: Db, schoolId: string, assetTag: string | null, selfId?: string) {
    if (!assetTag) return;
    const other = await trx
      .selectFrom('devices')
      .select(['id', 'name'])
      .where('school_id', '=', schoolId)
      .where('asset_tag', '=', assetTag)
      .where('retired_at', 'is', null)
      .executeTakeFirst();
    if (other && other.id !== selfId) throw conflict(`Asset tag ${assetTag} already belongs to "${other.name}"`);
  }

  async function rotate(trx: Transaction<Database>, actor: Actor, schoolId: string, deviceId: string, action: string): Promise<IssuedToken> {
    const row = await requireRow(trx, schoolId, deviceId);
    if (row.retired_at) throw conflict(`"${row.name}" is retired: it has no token`);
    const token = newToken();
    const now = nowIso();
    await trx.updateTable('devices').set({ token_hash: tokenHash(token), token_rotated_at: now, updated_at: now }).where('school_id', '=', schoolId).where('id', '=', deviceId).execute();
    // The token is a secret: the entry says it changed, never what it is.
    await audit.append(trx, actor, { schoolId, action, targetType: 'device', targetId: deviceId, details: { name: row.name } });
    return { device: present({ ...row, token_hash: '', token_rotated_at: now, updated_at: now }), token };
  }

  return {
    async create(actor, schoolId, input) {
      const data = parseOrThrow(deviceCreateSchema, input, 'device');
      await checkLinks(schoolId, data.ownerId, data.groupId);
      const token = newToken();
      const now = nowIso();
      const row: DevicesTable = {
        id: randomUUID(),
        school_id: schoolId,
        name: data.name,
        asset_tag: data.assetTag ?? null,
        serial: data.serial ?? null,
        platform: data.platform,
        owner_id: data.ownerId ?? null,
        group_id: data.groupId ?? null,
        token_hash: tokenHash(token),
        token_rotated_at: now,
        created_at: now,
        updated_at: now,
        retired_at: null,
      };
      await audit.transaction(async (trx) => {
        await checkAssetTagFree(trx, schoolId, row.asset_tag);
        await trx.insertInto('devices').values(row).execute();
        await audit.append(trx, actor, {
          schoolId,
          action: 'device.create',
          targetType: 'device',
          targetId: row.id,
          details: { name: row.name, platform: row.platform, assetTag: row.asset_tag, ownerId: row.owner_id, groupId: row.group_id },
        });
      });
      changed(schoolId);
      return { device: present(row), token };
    },

    async list(schoolId, options = {}) {
      let query = db.selectFrom('devices').selectAll().where('school_id', '=', schoolId);
      if (!options.includeRetired) query = query.where('retired_at', 'is', null);
      return (await query.orderBy('name').orderBy('id').execute()).map(present);
    },

    async get(schoolId, deviceId) {
      return present(await requireRow(db, schoolId, deviceId));
    },

    async update(actor, schoolId, deviceId, patch) {
      const data = parseOrThrow(devicePatchSchema, patch, 'change');
      await checkLinks(schoolId, data.ownerId, data.groupId);
      const result = await audit.transaction(async (trx) => {
        const before = await requireRow(trx, schoolId, deviceId);
        if (before.retired_at) throw conflict(`"${before.name}" is retired and cannot be changed`);
        const after: DevicesTable = { ...before };
        if (data.name !== undefined) after.name = data.name;
        if (data.assetTag !== undefined) after.asset_tag = data.assetTag ?? null;
        if (data.serial !== undefined) after.serial = data.serial ?? null;
        if (data.platform !== undefined) after.platform = data.platform;
        if (data.ownerId !== undefined) after.owner_id = data.ownerId ?? null;
        if (data.groupId !== undefined) after.group_id = data.groupId ?? null;
        const columns = ['name', 'asset_tag', 'serial', 'platform', 'owner_id', 'group_id'] as const;
        const diff = columns.filter((c) => before[c] !== after[c]);
        if (diff.length === 0) return { device: present(before), changed: false };
        if (diff.includes('asset_tag')) await checkAssetTagFree(trx, schoolId, after.asset_tag, deviceId);
        after.updated_at = nowIso();
        await trx
          .updateTable('devices')
          .set({ name: after.name, asset_tag: after.asset_tag, serial: after.serial, platform: after.platform, owner_id: after.owner_id, group_id: after.group_id, updated_at: after.updated_at })
          .where('school_id', '=', schoolId)
          .where('id', '=', deviceId)
          .execute();
        await audit.append(trx, actor, {
          schoolId,
          action: 'device.update',
          targetType: 'device',
          targetId: deviceId,
          details: Object.fromEntries(diff.map((c) => [c, { from: before[c], to: after[c] }])),
        });
        return { device: present(after), changed: true };
      });
      if (result.changed) changed(schoolId);
      return result.device;
    },

    async rotateToken(actor, schoolId, deviceId) {
      const issued = await audit.transaction((trx) => rotate(trx, actor, schoolId, deviceId, 'device.token.rotate'));
      changed(schoolId);
      return issued;
    },

    async retire(actor, schoolId, deviceId, reason) {
      const device = await audit.transaction(async (trx) => {
        const row = await requireRow(trx, schoolId, deviceId);
        if (row.retired_at) throw conflict(`"${row.name}" was retired on ${row.retired_at.slice(0, 10)}`);
        const now = nowIso();
        await trx.updateTable('devices').set({ retired_at: now, updated_at: now }).where('school_id', '=', schoolId).where('id', '=', deviceId).execute();
        await audit.append(trx, actor, { schoolId, action: 'device.retire', targetType: 'device', targetId: deviceId, details: { name: row.name, reason: reason?.trim() || null } });
        return present({ ...row, retired_at: now, updated_at: now });
      });
      changed(schoolId);
      return device;
    },

    async appleProfile(actor, schoolId, deviceId, baseUrl) {
      const current = await requireRow(db, schoolId, deviceId);
      if (!APPLE_PLATFORMS.includes(current.platform)) {
        throw invalid(`"${current.name}" is a ${current.platform} device: Apple profiles are for iOS, iPadOS and macOS`, [
          { where: 'platform', message: `is ${current.platform}, not ios, ipados or macos` },
        ]);
      }
      const school = await deps.schools.get(schoolId);
      const issued = await audit.transaction((trx) => rotate(trx, actor, schoolId, deviceId, 'device.profile.issue'));
      changed(schoolId);
      const profile = appleDohProfile({
        deviceId,
        deviceName: issued.device.name,
        schoolName: school?.name ?? 'School',
        serverUrl: `${baseUrl.replace(/\/+$/, '')}/dns-query/${issued.token}`,
      });
      return { device: issued.device, fileName: `schoolgate-doh-${slug(issued.device.name)}.mobileconfig`, profile };
    },

    async forFilter(schoolId) {
      const rows = await db
        .selectFrom('devices')
        .select(['id', 'name', 'group_id', 'owner_id', 'token_hash'])
        .where('school_id', '=', schoolId)
        .where('retired_at', 'is', null)
        .execute();
      return rows.map((r) => ({ id: r.id, name: r.name, groupId: r.group_id, ownerId: r.owner_id, tokenHash: r.token_hash }));
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
