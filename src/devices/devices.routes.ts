/** Device routes (admin): the register, DoH tokens and Apple profiles. Thin: the rules are in the service. */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorOf } from '../auth/auth.context.ts';
import { callerOf } from '../http/guard.ts';
import type { App } from '../http/server.ts';
import { deviceCreateSchema, deviceJson, devicePatchSchema } from './devices.schema.ts';
import type { DevicesService } from './devices.service.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });

/** A device and its new token: the only response that ever carries the token. */
const issuedJson = z.object({
  device: deviceJson,
  /** The DoH path token, shown this once: `<base>/dns-query/<token>`. */
  token: z.string(),
  dohUrl: z.string(),
});

/** The address devices reach the server at: the configured public URL, else this request's own. */
const baseUrlOf = (request: FastifyRequest, publicUrl?: string) => (publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');

/** Mounts the device routes under /api/devices; `publicUrl` is the address devices reach the server at. */
export function devicesRoutes(devices: DevicesService, options: { publicUrl?: string } = {}) {
  return (app: App) => {
    app.get(
      '/api/devices',
      {
        config: { access: 'devices.read' },
        schema: {
          tags: ['devices'],
          summary: 'Devices in name order (retired ones with includeRetired=true)',
          querystring: z.object({ includeRetired: z.enum(['true', 'false']).default('false') }),
          response: { 200: z.object({ items: z.array(deviceJson) }) },
        },
      },
      async (request) => ({ items: await devices.list(callerOf(request).schoolId, { includeRetired: request.query.includeRetired === 'true' }) }),
    );

    app.get(
      '/api/devices/:id',
      {
        config: { access: 'devices.read' },
        schema: { tags: ['devices'], summary: 'One device', params: idParams, response: { 200: z.object({ device: deviceJson }) } },
      },
      async (request) => ({ device: await devices.get(callerOf(request).schoolId, request.params.id) }),
    );

    app.post(
      '/api/devices',
      {
        config: { access: 'devices.write' },
        schema: { tags: ['devices'], summary: 'Add a device; the response shows its DoH token once', body: deviceCreateSchema, response: { 201: issuedJson } },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const { device, token } = await devices.create(actorOf(caller, request.ip), caller.schoolId, request.body);
        return reply.status(201).send({ device, token, dohUrl: `${baseUrlOf(request, options.publicUrl)}/dns-query/${token}` });
      },
    );

    app.patch(
      '/api/devices/:id',
      {
        config: { access: 'devices.write' },
        schema: { tags: ['devices'], summary: 'Change a device', params: idParams, body: devicePatchSchema, response: { 200: z.object({ device: deviceJson }) } },
      },
      async (request) => {
        const caller = callerOf(request);
        return { device: await devices.update(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body) };
      },
    );

    app.post(
      '/api/devices/:id/rotate-token',
      {
        config: { access: 'devices.write' },
        schema: { tags: ['devices'], summary: 'Issue a new DoH token (shown once); the old one stops working', params: idParams, response: { 200: issuedJson } },
      },
      async (request) => {
        const caller = callerOf(request);
        const { device, token } = await devices.rotateToken(actorOf(caller, request.ip), caller.schoolId, request.params.id);
        return { device, token, dohUrl: `${baseUrlOf(request, options.publicUrl)}/dns-query/${token}` };
      },
    );

    app.delete(
      '/api/devices/:id',
      {
        config: { access: 'devices.write' },
        schema: {
          tags: ['devices'],
          summary: 'Retire a device: it leaves the filter, its record stays',
          params: idParams,
          body: z.object({ reason: z.string().trim().max(1000).nullish() }).nullish(),
          response: { 200: z.object({ device: deviceJson }) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return { device: await devices.retire(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body?.reason) };
      },
    );

    app.post(
      '/api/devices/:id/mobileconfig',
      {
        config: { access: 'devices.write' },
        schema: {
          tags: ['devices'],
          summary: 'Issue a new DoH token and download an Apple configuration profile that uses it (iOS, iPadOS, macOS)',
          params: idParams,
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const { fileName, profile } = await devices.appleProfile(actorOf(caller, request.ip), caller.schoolId, request.params.id, baseUrlOf(request, options.publicUrl));
        return reply
          .header('content-type', 'application/x-apple-aspen-config; charset=utf-8')
          .header('content-disposition', `attachment; filename="${fileName}"`)
          .header('cache-control', 'no-store')
          .send(profile);
      },
    );
  };
}
