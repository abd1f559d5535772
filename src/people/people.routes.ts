/** People, groups, networks and MIS import routes: thin, the rules are in the service. */
import { z } from 'zod';
import { actorOf } from '../auth/auth.context.ts';
import { callerOf } from '../http/guard.ts';
import type { App } from '../http/server.ts';
import { invalid } from '../shared/errors.ts';
import { IMPORT_FIELDS, PRESET_IDS } from './people.import.ts';
import {
  groupCreateSchema,
  groupJson,
  groupPatchSchema,
  linkJson,
  networkCreateSchema,
  networkJson,
  networkPatchSchema,
  peopleQuerySchema,
  personCreateSchema,
  personJson,
  personPatchSchema,
  type PersonJson,
} from './people.schema.ts';
import { hasLeft, localDate, type Person, type PeopleService } from './people.service.ts';
import { GROUP_KINDS, PERSON_KINDS } from './people.tables.ts';

/** The API's person shape: no school id or timestamps, plus whether they have left. */
function toJson(person: Person, today: string): PersonJson {
  return {
    id: person.id,
    kind: person.kind,
    misId: person.misId,
    givenName: person.givenName,
    familyName: person.familyName,
    preferredName: person.preferredName,
    email: person.email,
    dateOfBirth: person.dateOfBirth,
    yearGroup: person.yearGroup,
    registrationGroup: person.registrationGroup,
    startDate: person.startDate,
    leaveDate: person.leaveDate,
    left: hasLeft(person, today),
  };
}

const idParams = z.object({ id: z.string().min(1).max(100) });
const importError = z.object({ line: z.number().int(), field: z.string(), message: z.string() });
const mappingSchema = z.partialRecord(z.enum(IMPORT_FIELDS), z.string().max(200));

/** Base64 to bytes; refuses text that is not base64 instead of importing garbage. */
function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) {
    throw invalid('The file is not valid base64', [{ where: 'fileBase64', message: 'is not base64' }]);
  }
  return Buffer.from(clean, 'base64');
}

export function peopleRoutes(people: PeopleService) {
  return (app: App) => {
    // ---- people ----
    app.get(
      '/api/people',
      {
        config: { access: 'people.read' },
        schema: {
          tags: ['people'],
          summary: 'Search people (names, email, MIS id), filter by kind and group, one page',
          querystring: peopleQuerySchema,
          response: { 200: z.object({ items: z.array(personJson), total: z.number(), page: z.number(), pageSize: z.number() }) },
        },
      },
      async (request) => {
        const result = await people.listPeople(callerOf(request).schoolId, request.query);
        const today = localDate();
        return { ...result, items: result.items.map((p) => toJson(p, today)) };
      },
    );

    app.get(
      '/api/people/:id',
      {
        config: { access: 'people.read' },
        schema: {
          tags: ['people'],
          summary: 'A person with their groups, parents and children',
          params: idParams,
          response: {
            200: z.object({
              person: personJson,
              groups: z.array(z.object({ id: z.string(), name: z.string(), kind: z.enum(GROUP_KINDS) })),
              parents: z.array(linkJson),
              children: z.array(linkJson),
            }),
          },
        },
      },
      async (request) => {
        const detail = await people.personDetail(callerOf(request).schoolId, request.params.id);
        const today = localDate();
        const link = (l: (typeof detail.parents)[number]) => ({ ...l, person: toJson(l.person, today) });
        return { person: toJson(detail.person, today), groups: detail.groups, parents: detail.parents.map(link), children: detail.children.map(link) };
      },
    );

    app.post(
      '/api/people',
      {
        config: { access: 'people.write' },
        schema: { tags: ['people'], summary: 'Add a person by hand', body: personCreateSchema, response: { 201: z.object({ person: personJson }) } },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const person = await people.createPerson(actorOf(caller, request.ip), caller.schoolId, request.body);
        return reply.status(201).send({ person: toJson(person, localDate()) });
      },
    );

    app.patch(
      '/api/people/:id',
      {
        config: { access: 'people.write' },
        schema: { tags: ['people'], summary: 'Change a person', params: idParams, body: personPatchSchema, response: { 200: z.object({ person: personJson }) } },
      },
      async (request) => {
        const caller = callerOf(request);
        const person = await people.updatePerson(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body);
        return { person: toJson(person, localDate()) };
      },
    );

    // ---- groups ----
    app.get(
      '/api/groups',
      {
        config: { access: 'groups.read' },
        schema: {
          tags: ['groups'],
          summary: 'Every group (optionally of one kind) with its direct member count',
          querystring: z.object({ kind: z.enum(GROUP_KINDS).optional() }),
          response: { 200: z.object({ items: z.array(groupJson) }) },
        },
      },
      async (request) => ({ items: await people.listGroups(callerOf(request).schoolId, request.query.kind) }),
    );

    app.get(
      '/api/groups/:id',
      {
        config: { access: 'groups.read' },
        schema: {
          tags: ['groups'],
          summary: 'A group, one page of its direct members, and its child groups',
          params: idParams,
          querystring: z.object({ page: z.coerce.number().int().min(1).default(1), pageSize: z.coerce.number().int().min(1).max(200).default(50) }),
          response: { 200: z.object({ group: groupJson, members: z.object({ items: z.array(personJson), total: z.number() }), children: z.array(groupJson) }) },
        },
      },
      async (request) => {
        const detail = await people.groupDetail(callerOf(request).schoolId, request.params.id, request.query.page, request.query.pageSize);
        const today = localDate();
        return { ...detail, members: { items: detail.members.items.map((p) => toJson(p, today)), total: detail.members.total } };
      },
    );

    app.post(
      '/api/groups',
      {
        config: { access: 'groups.write' },
        schema: { tags: ['groups'], summary: 'Make a group', body: groupCreateSchema, response: { 201: z.object({ group: groupJson }) } },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const group = await people.createGroup(actorOf(caller, request.ip), caller.schoolId, request.body);
        return reply.status(201).send({ group });
      },
    );

    app.patch(
      '/api/groups/:id',
      {
        config: { access: 'groups.write' },
        schema: { tags: ['groups'], summary: 'Rename, describe or move a group (cycles are refused)', params: idParams, body: groupPatchSchema, response: { 200: z.object({ group: groupJson }) } },
      },
      async (request) => {
        const caller = callerOf(request);
        return { group: await people.updateGroup(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body) };
      },
    );

    app.post(
      '/api/groups/:id/members',
      {
        config: { access: 'groups.write' },
        schema: {
          tags: ['groups'],
          summary: 'Add people to a group',
          params: idParams,
          body: z.object({ personIds: z.array(z.string().min(1)).min(1).max(5000) }),
          response: { 200: z.object({ added: z.number() }) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return people.addMembers(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body.personIds);
      },
    );

    app.delete(
      '/api/groups/:id/members/:personId',
      {
        config: { access: 'groups.write' },
        schema: {
          tags: ['groups'],
          summary: 'Take a person out of a group',
          params: z.object({ id: z.string().min(1), personId: z.string().min(1) }),
          response: { 200: z.object({ ok: z.literal(true) }) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        await people.removeMember(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.params.personId);
        return { ok: true as const };
      },
    );

    // ---- networks ----
    app.get(
      '/api/networks',
      {
        config: { access: 'networks.read' },
        schema: { tags: ['networks'], summary: 'Address ranges and their default groups', response: { 200: z.object({ items: z.array(networkJson) }) } },
      },
      async (request) => ({ items: await people.listNetworks(callerOf(request).schoolId) }),
    );

    app.post(
      '/api/networks',
      {
        config: { access: 'networks.write' },
        schema: { tags: ['networks'], summary: 'Add an address range (CIDR) and its default group', body: networkCreateSchema, response: { 201: z.object({ network: networkJson }) } },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const network = await people.createNetwork(actorOf(caller, request.ip), caller.schoolId, request.body);
        return reply.status(201).send({ network });
      },
    );

    app.patch(
      '/api/networks/:id',
      {
        config: { access: 'networks.write' },
        schema: { tags: ['networks'], summary: 'Change a network', params: idParams, body: networkPatchSchema, response: { 200: z.object({ network: networkJson }) } },
      },
      async (request) => {
        const caller = callerOf(request);
        return { network: await people.updateNetwork(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body) };
      },
    );

    app.delete(
      '/api/networks/:id',
      {
        config: { access: 'networks.write' },
        schema: { tags: ['networks'], summary: 'Remove a network', params: idParams, response: { 200: z.object({ ok: z.literal(true) }) } },
      },
      async (request) => {
        const caller = callerOf(request);
        await people.deleteNetwork(actorOf(caller, request.ip), caller.schoolId, request.params.id);
        return { ok: true as const };
      },
    );

    // ---- import ----
    app.get(
      '/api/people/import/presets',
      {
        config: { access: 'people.import' },
        schema: {
          tags: ['import'],
          summary: 'MIS presets and the column headers each expects',
          response: { 200: z.object({ presets: z.array(z.object({ id: z.enum(PRESET_IDS), name: z.string(), columns: mappingSchema })) }) },
        },
      },
      async () => ({ presets: people.importPresets() }),
    );

    app.post(
      '/api/people/import/preview',
      {
        config: { access: 'people.import' },
        schema: {
          tags: ['import'],
          summary: 'Dry run of a MIS CSV export: counts, bad rows, proposed leavers (stores only the run)',
          body: z.object({
            fileName: z.string().min(1).max(255),
            fileBase64: z.string().min(1),
            preset: z.enum(PRESET_IDS),
            fullExport: z.boolean(),
            mapping: mappingSchema.optional(),
            /** The kind of every row without a kind column or child link (default pupil). */
            kind: z.enum(PERSON_KINDS).optional(),
          }),
          response: {
            200: z.object({
              runId: z.string(),
              ok: z.boolean(),
              rows: z.number(),
              create: z.number(),
              update: z.number(),
              unchanged: z.number(),
              errors: z.array(importError),
              leavers: z.array(z.object({ id: z.string(), name: z.string(), kind: z.enum(PERSON_KINDS) })),
              encoding: z.string(),
              kinds: z.partialRecord(z.enum(PERSON_KINDS), z.number()),
            }),
          },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        const { fileBase64, ...rest } = request.body;
        return people.previewImport(actorOf(caller, request.ip), caller.schoolId, { ...rest, file: fromBase64(fileBase64) });
      },
    );

    app.post(
      '/api/people/import/apply',
      {
        config: { access: 'people.import' },
        schema: {
          tags: ['import'],
          summary: 'Apply a previewed import (the same file) in one transaction; all or nothing',
          body: z.object({ runId: z.string().min(1), fileBase64: z.string().min(1), confirmLeavers: z.array(z.string().min(1)).default([]) }),
          response: {
            200: z.object({
              created: z.number(),
              updated: z.number(),
              unchanged: z.number(),
              leaversMarked: z.number(),
              linksCreated: z.number(),
              linksUpdated: z.number(),
              groupsCreated: z.number(),
              membershipsAdded: z.number(),
              membershipsRemoved: z.number(),
            }),
          },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        const { runId, fileBase64, confirmLeavers } = request.body;
        return people.applyImport(actorOf(caller, request.ip), caller.schoolId, { runId, file: fromBase64(fileBase64), confirmLeavers });
      },
    );
  };
}
