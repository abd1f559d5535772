/**
 * The policy module's input shapes (zod) and the JSON shapes of its API. The
 * service validates with the same schemas, so the API, the demo seed and any
 * later CLI get the same rules and the same field names in their errors.
 * Rules that need the store (a schedule that exists, `illegal` always blocked)
 * are checked by the service and reported on the same field paths.
 */
import { z } from 'zod';
import { CATEGORY_KEYS } from '../filter/categories.ts';
import { isoDate } from '../people/people.schema.ts';
import { type Parsed, parseClockTime, parseDomainEntry, parseServerAddress, parseTimestamp } from './policy.validate.ts';

/** Turns a parser into a zod string that yields the normalised value or an issue with the parser's message. */
function parsedString<T>(parse: (text: string) => Parsed<T>, max = 300) {
  return z
    .string()
    .max(max)
    .transform((text, ctx) => {
      const result = parse(text);
      if (result.ok) return result.value;
      ctx.addIssue({ code: 'custom', message: result.message });
      return z.NEVER;
    });
}

/** Why a change is made: required on every change, and written to the audit log. */
export const reasonField = z.string().trim().min(1, 'is required: say why this change is made').max(1000);

/** A domain entry (`example.com` covers subdomains, `=example.com` the name alone). */
export const domainEntryField = parsedString(parseDomainEntry);

/** A category key of the taxonomy. */
export const categoryField = z.enum(CATEGORY_KEYS, { error: () => `is not a category; use one of ${CATEGORY_KEYS.join(', ')}` });

/** A future time with its zone, stored as ISO UTC. */
export const timestampField = parsedString(parseTimestamp, 40);

const unique = <T>(items: T[]) => new Set(items).size === items.length;

/** One weekly window of a schedule. */
export const scheduleWindowSchema = z
  .object({
    days: z
      .array(z.number().int().min(1, 'days are 1 (Monday) to 7 (Sunday)').max(7, 'days are 1 (Monday) to 7 (Sunday)'))
      .min(1, 'must name at least one day')
      .refine(unique, 'names a day twice'),
    start: parsedString((t) => parseClockTime(t, { endOfDay: false }), 5),
    end: parsedString((t) => parseClockTime(t, { endOfDay: true }), 5),
  })
  .superRefine((w, ctx) => {
    if (typeof w.start === 'string' && w.start === w.end) ctx.addIssue({ code: 'custom', path: ['end'], message: 'is the same as the start: the window would be empty' });
  });

/** Body of creating or changing a schedule. */
export const scheduleInputSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100),
  windows: z.array(scheduleWindowSchema).min(1, 'must have at least one window').max(50),
  schoolDaysOnly: z.boolean(),
  reason: reasonField,
});

/** One scheduled category of a group. */
export const scheduledCategorySchema = z.object({
  category: categoryField,
  scheduleId: z.string().min(1).max(100),
  mode: z.enum(['block_during', 'allow_during']),
});

/** Body of `PUT /api/filter/groups/:groupId/policy`. */
export const groupPolicyInputSchema = z.object({
  priority: z.number().int().min(1, 'must be 1 or more (1 wins over 2)').max(1000),
  blocked: z.array(categoryField).max(CATEGORY_KEYS.length).refine(unique, 'names a category twice'),
  scheduled: z.array(scheduledCategorySchema).max(100),
  safeSearch: z.boolean(),
  youtube: z.enum(['strict', 'moderate', 'off']),
  filterOff: z.boolean(),
  /** Who approved switching filtering off (by the school's policy, the head); required when `filterOff` is turned on. */
  filterOffApprovedBy: z.string().trim().max(200).nullish(),
  reason: reasonField,
});
/** What a group policy change accepts (before normalising). */
export type GroupPolicyInput = z.input<typeof groupPolicyInputSchema>;

/** Body of `POST /api/filter/entries`. */
export const entryInputSchema = z.object({
  list: z.enum(['allow', 'deny']),
  domain: domainEntryField,
  /** The group the entry is for; null or absent: the whole school. */
  groupId: z.string().min(1).max(100).nullish(),
  reason: reasonField,
});

/** Body of changes that only need a reason (delete, revoke, lift). */
export const reasonOnlySchema = z.object({ reason: reasonField });

/** Body of `PUT /api/filter/calendar`: the whole calendar. */
export const calendarInputSchema = z.object({
  terms: z.array(z.object({ label: z.string().trim().min(1, 'must not be empty').max(100), start: isoDate, end: isoDate })).max(50),
  closures: z.array(z.object({ date: isoDate, label: z.string().trim().min(1, 'must say what the closure is (INSET day, bank holiday…)').max(100) })).max(200),
  reason: reasonField,
});

const targetIds = {
  groupId: z.string().min(1).max(100).nullish(),
  personId: z.string().min(1).max(100).nullish(),
  deviceId: z.string().min(1).max(100).nullish(),
};

/** Body of `POST /api/filter/exemptions`: a domain or a category, for exactly one group, person or device. */
export const exemptionInputSchema = z.object({
  domain: domainEntryField.nullish(),
  category: categoryField.nullish(),
  ...targetIds,
  until: timestampField,
  /** Who approved the unblock, when not the person recording it (the DSL, for a safeguarding category). */
  approvedBy: z.string().trim().max(200).nullish(),
  reason: reasonField,
});

/** Body of `POST /api/filter/sanctions`: a person or a device, until a time, with what stays reachable. */
export const sanctionInputSchema = z.object({
  personId: targetIds.personId,
  deviceId: targetIds.deviceId,
  until: timestampField,
  allow: z.array(domainEntryField).max(100).default([]),
  reason: reasonField,
});

const cidrText = z.string().trim().min(1).max(60);

/** Body of `PUT /api/filter/settings`: fields left out stay as they are. */
export const settingsInputSchema = z.object({
  blockAnswer: z.enum(['address', 'null', 'nxdomain']).optional(),
  blockIpv4: z.string().trim().max(15).nullish(),
  blockIpv6: z.string().trim().max(45).nullish(),
  blockedTtl: z.number().int().min(0, 'must be 0 or more seconds').max(10, 'must be at most 10 seconds, so an unblock takes effect quickly').optional(),
  defaultGroupId: z.string().min(1).max(100).nullish(),
  /** The school's own never-block entries (the whole list; replaces the stored one). */
  neverBlockAdded: z.array(z.object({ entry: domainEntryField, reason: reasonField })).max(500).optional(),
  /** Built-in never-block entries switched off, each with why (the whole list). */
  neverBlockDisabled: z.array(z.object({ entry: z.string().trim().min(1).max(300), reason: reasonField })).max(500).optional(),
  /** The ChromeOS `DnsOverHttpsSalt` (8-32 characters); null removes it. */
  chromeosSalt: z
    .string()
    .max(32, 'must be 8 to 32 characters (the ChromeOS salt limits)')
    // ChromeOS measures the salt in UTF-8 bytes and ignores the whole setting outside 8-32.
    .refine((v) => Buffer.byteLength(v, 'utf8') >= 8 && Buffer.byteLength(v, 'utf8') <= 32, 'must be 8 to 32 characters (the ChromeOS salt limits; letters outside plain ASCII count as 2 to 4)')
    .nullish(),
  trustedForwarders: z.array(cidrText).max(100).optional(),
  /** The monitoring notice on the block page (null or empty: the built-in wording). */
  blockPageNotice: z.string().trim().max(1000).nullish(),
  /** Who to ask about a block, e.g. "Ask Mr Patel in IT (room 14) or email ict@school.example". */
  blockPageContact: z.string().trim().max(300).nullish(),
  conditionalForwarders: z
    .array(
      z.object({
        zone: domainEntryField.refine((v) => !v.startsWith('='), 'is a zone: write it without ='),
        servers: z.array(parsedString(parseServerAddress, 60)).min(1, 'must name at least one server').max(8),
      }),
    )
    .max(50)
    .optional(),
  reason: reasonField,
});
/** What a settings change accepts (before normalising). */
export type SettingsInput = z.input<typeof settingsInputSchema>;

// ---- JSON shapes of the API -------------------------------------------------

/** A group's policy in API responses. */
export const groupPolicyJson = z.object({
  groupId: z.string(),
  groupName: z.string(),
  groupKind: z.string(),
  /** True when the group has no stored policy and these are the defaults. */
  isDefault: z.boolean(),
  priority: z.number(),
  blocked: z.array(z.string()),
  scheduled: z.array(z.object({ category: z.string(), scheduleId: z.string(), mode: z.enum(['block_during', 'allow_during']) })),
  safeSearch: z.boolean(),
  youtube: z.enum(['strict', 'moderate', 'off']),
  filterOff: z.boolean(),
  filterOffApprovedBy: z.string().nullable(),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});

/** An allow or deny entry in API responses. */
export const entryJson = z.object({
  id: z.string(),
  list: z.enum(['allow', 'deny']),
  domain: z.string(),
  groupId: z.string().nullable(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
});

/** A schedule in API responses. */
export const scheduleJson = z.object({
  id: z.string(),
  name: z.string(),
  windows: z.array(z.object({ days: z.array(z.number()), start: z.string(), end: z.string() })),
  schoolDaysOnly: z.boolean(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});

/** The school calendar in API responses. */
export const calendarJson = z.object({
  terms: z.array(z.object({ label: z.string(), start: z.string(), end: z.string() })),
  closures: z.array(z.object({ date: z.string(), label: z.string() })),
});

/** An exemption in API responses. */
export const exemptionJson = z.object({
  id: z.string(),
  domain: z.string().nullable(),
  category: z.string().nullable(),
  groupId: z.string().nullable(),
  personId: z.string().nullable(),
  deviceId: z.string().nullable(),
  until: z.string(),
  reason: z.string(),
  approvedBy: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
  revokeReason: z.string().nullable(),
  /** Not revoked and not yet at its end. */
  active: z.boolean(),
});

/** A sanction in API responses. */
export const sanctionJson = z.object({
  id: z.string(),
  personId: z.string().nullable(),
  deviceId: z.string().nullable(),
  until: z.string(),
  allow: z.array(z.string()),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  liftedAt: z.string().nullable(),
  liftedBy: z.string().nullable(),
  liftReason: z.string().nullable(),
  active: z.boolean(),
});

/** The school filter settings in API responses (the ChromeOS salt only as set or not). */
export const settingsJson = z.object({
  blockAnswer: z.enum(['address', 'null', 'nxdomain']),
  blockIpv4: z.string().nullable(),
  blockIpv6: z.string().nullable(),
  blockedTtl: z.number(),
  defaultGroupId: z.string().nullable(),
  neverBlock: z.object({
    builtIn: z.array(z.object({ entry: z.string(), service: z.string(), enabled: z.boolean(), disabledReason: z.string().nullable() })),
    added: z.array(z.object({ entry: z.string(), reason: z.string() })),
    /** What the filter uses: enabled built-ins and the school's additions. */
    effective: z.array(z.string()),
  }),
  /** Whether a ChromeOS salt is set; the salt itself is not shown again. */
  chromeosSaltSet: z.boolean(),
  trustedForwarders: z.array(z.string()),
  conditionalForwarders: z.array(z.object({ zone: z.string(), servers: z.array(z.string()) })),
  blockPageNotice: z.string().nullable(),
  blockPageContact: z.string().nullable(),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});
