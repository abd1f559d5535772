/**
 * Routes for choosing lists: the built-in sources with their switches, and
 * the school's own lists. Every change starts a refresh, so it reaches the
 * running filter as soon as the catalog is compiled.
 */
import { z } from 'zod';
import { actorOf } from '../auth/auth.context.ts';
import { CATEGORY_KEYS } from '../filter/categories.ts';
import { LIST_FORMATS } from '../filter/list-formats.ts';
import { callerOf } from '../http/guard.ts';
import type { App } from '../http/server.ts';
import { type ListChoices, MAX_UPLOAD_BYTES } from './lists.choices.ts';
import type { ListsRefresher } from './lists.refresh.ts';
import { BUILT_IN_SOURCES, isEnabled } from './lists.sources.ts';
import type { ListsStatus } from './lists.status.ts';
import type { ListState } from './lists.sync.ts';

const tags = ['lists'];
const reason = z.string().trim().min(1, 'say why').max(1000);
const inService = z.object({
  names: z.number(),
  linesNotUsed: z.number(),
  acceptedAt: z.string().nullable(),
  checkedAt: z.string().nullable(),
  from: z.string().nullable(),
  problem: z.object({ reason: z.string(), at: z.string() }).nullable(),
});
const switchJson = z.object({ enabled: z.boolean(), reason: z.string(), changedAt: z.string(), changedBy: z.string() });
const builtInJson = z.object({
  id: z.string(),
  name: z.string(),
  use: z.enum(['block', 'allow', 'ignore']),
  category: z.string().nullable(),
  format: z.string(),
  url: z.string(),
  note: z.string().nullable(),
  enabledByDefault: z.boolean(),
  enabled: z.boolean(),
  switch: switchJson.nullable(),
  state: inService,
});
const ownJson = z.object({
  id: z.string(),
  name: z.string(),
  use: z.enum(['block', 'allow']),
  category: z.string().nullable(),
  format: z.string(),
  url: z.string().nullable(),
  bytes: z.number().nullable(),
  uploadedAt: z.string().nullable(),
  note: z.string(),
  enabled: z.boolean(),
  createdAt: z.string(),
  createdBy: z.string(),
  updatedAt: z.string(),
  state: inService,
});
/** JSON of an upload's check (names, lines, the first unused lines). */
export type OwnListCheckJson = NonNullable<z.infer<typeof checkJson>>;
const checkJson = z
  .object({ names: z.number(), lines: z.number(), unused: z.number(), samples: z.array(z.object({ line: z.number(), text: z.string(), reason: z.string() })) })
  .nullable();
const refreshJson = z.enum(['started', 'queued']);

/** JSON of `GET /api/lists/sources`. */
export type ListSourcesJson = z.infer<typeof sourcesJson>;
const sourcesJson = z.object({
  sources: z.array(z.object({ key: z.string(), name: z.string(), homepage: z.string(), licence: z.string(), attribution: z.string(), lists: z.array(builtInJson) })),
  own: z.array(ownJson),
  formats: z.array(z.string()),
  maxUploadBytes: z.number(),
});

const stateJson = (state: ListState | undefined): z.infer<typeof inService> => ({
  names: state?.copy?.names ?? 0,
  linesNotUsed: state?.copy?.unused ?? 0,
  acceptedAt: state?.copy?.acceptedAt ?? null,
  checkedAt: state?.checkedAt ?? null,
  from: state?.copy?.from ?? null,
  problem: state?.problem ?? null,
});

const ownBody = z.object({
  name: z.string().max(80),
  use: z.enum(['block', 'allow']),
  category: z.enum(CATEGORY_KEYS).nullable().optional(),
  format: z.enum(LIST_FORMATS),
  url: z.string().max(2000).nullable().optional(),
  content: z.string().nullable().optional(),
  note: z.string().max(1000).optional(),
  reason,
});
const ownPatch = z.object({
  enabled: z.boolean().optional(),
  category: z.enum(CATEGORY_KEYS).nullable().optional(),
  format: z.enum(LIST_FORMATS).optional(),
  url: z.string().max(2000).nullable().optional(),
  content: z.string().nullable().optional(),
  note: z.string().max(1000).optional(),
  reason,
});
/** An upload arrives as JSON text: room for the largest list plus escaping. */
const UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES * 2;

/** Mounts /api/lists/sources and /api/lists/own. */
export function listChoicesRoutes(deps: { choices: ListChoices; status: ListsStatus; refresher: ListsRefresher }) {
  const { choices, status, refresher } = deps;
  /** Applies a change now: a refresh starts (or follows the one running). */
  const refresh = async (label: string): Promise<z.infer<typeof refreshJson>> => {
    const running = refresher.state().running;
    const started = refresher.runNow(`list change by ${label}`);
    void started.catch(() => {});
    return running ? 'queued' : 'started';
  };

  return (app: App) => {
    app.get(
      '/api/lists/sources',
      {
        config: { access: 'filter.policy.read' },
        schema: { tags, summary: 'The built-in list sources (each list: what it is for, whether it is on, its copy in service) and the school’s own lists', response: { 200: sourcesJson } },
      },
      async () => {
        const states = status.states();
        const switches = new Map((await choices.switches()).map((s) => [s.listId, s]));
        const own = await choices.listOwn();
        return {
          sources: BUILT_IN_SOURCES.map((source) => ({
            key: source.key,
            name: source.name,
            homepage: source.homepage,
            licence: source.licence,
            attribution: source.attribution,
            lists: source.lists.map((list) => {
              const chosen = switches.get(list.id) ?? null;
              return {
                id: list.id,
                name: list.name,
                use: list.use,
                category: list.category,
                format: list.format,
                url: list.url,
                note: list.note ?? null,
                enabledByDefault: list.enabledByDefault,
                enabled: isEnabled(list, chosen?.enabled),
                switch: chosen && { enabled: chosen.enabled, reason: chosen.reason, changedAt: chosen.changedAt, changedBy: chosen.changedBy },
                state: stateJson(states[list.id]),
              };
            }),
          })),
          own: own.map((list) => ({ ...list, state: stateJson(states[list.id]) })),
          formats: [...LIST_FORMATS],
          maxUploadBytes: MAX_UPLOAD_BYTES,
        };
      },
    );

    app.put(
      '/api/lists/sources/:id',
      {
        config: { access: 'filter.policy.write' },
        schema: {
          tags,
          summary: 'Switch a built-in list on or off (with a reason); a refresh starts',
          params: z.object({ id: z.string().min(1).max(100) }),
          body: z.object({ enabled: z.boolean(), reason }),
          response: { 200: z.object({ switch: switchJson.extend({ listId: z.string() }), refresh: refreshJson }) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        const actor = actorOf(caller, request.ip);
        const chosen = await choices.setEnabled(actor, caller.schoolId, request.params.id, request.body.enabled, request.body.reason);
        return { switch: chosen, refresh: await refresh(actor.label) };
      },
    );

    app.post(
      '/api/lists/own',
      {
        bodyLimit: UPLOAD_BODY_LIMIT,
        config: { access: 'filter.policy.write' },
        schema: {
          tags,
          summary: 'Add an own list: a URL to download, or the text of a file (block lists need a category); a refresh starts',
          body: ownBody,
          response: { 201: z.object({ list: ownJson.omit({ state: true }), check: checkJson, refresh: refreshJson }) },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const actor = actorOf(caller, request.ip);
        const { reason: why, ...input } = request.body;
        const added = await choices.addOwn(actor, caller.schoolId, input, why);
        return reply.code(201).send({ list: added.list, check: added.check, refresh: await refresh(actor.label) });
      },
    );

    app.patch(
      '/api/lists/own/:id',
      {
        bodyLimit: UPLOAD_BODY_LIMIT,
        config: { access: 'filter.policy.write' },
        schema: {
          tags,
          summary: 'Change an own list: switch it, give a new URL or file, change its category or format (with a reason); a refresh starts',
          params: z.object({ id: z.string().min(1).max(100) }),
          body: ownPatch,
          response: { 200: z.object({ list: ownJson.omit({ state: true }), check: checkJson, refresh: refreshJson }) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        const actor = actorOf(caller, request.ip);
        const { reason: why, ...patch } = request.body;
        const updated = await choices.updateOwn(actor, caller.schoolId, request.params.id, patch, why);
        return { list: updated.list, check: updated.check, refresh: await refresh(actor.label) };
      },
    );

    app.delete(
      '/api/lists/own/:id',
      {
        config: { access: 'filter.policy.write' },
        schema: {
          tags,
          summary: 'Remove an own list (with a reason): it leaves the catalog at the refresh that starts; its record stays',
          params: z.object({ id: z.string().min(1).max(100) }),
          body: z.object({ reason }),
          response: { 200: z.object({ ok: z.literal(true), refresh: refreshJson }) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        const actor = actorOf(caller, request.ip);
        await choices.removeOwn(actor, caller.schoolId, request.params.id, request.body.reason);
        return { ok: true as const, refresh: await refresh(actor.label) };
      },
    );
  };
}
