/**
 * The Fastify server: security headers, zod validation, OpenAPI at /api/docs,
 * /healthz, /metrics, the route guard and the React app. Modules hand in their
 * routes as plain functions; nothing here knows a module's rules.
 */
import { existsSync } from 'node:fs';
import type { SecureContext } from 'node:tls';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { AuthContext } from '../auth/auth.context.ts';
import type { RouteAccess } from '../auth/permissions.ts';
import { handleError } from './errors.ts';
import { guard } from './guard.ts';
import { createMetrics, type Metrics } from './metrics.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route must say (checked at registration). */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The signed-in caller, set by the guard; null on public routes without a session. */
    auth: AuthContext | null;
  }
}

/** The Fastify instance type every module's routes receive. */
export type App = FastifyInstance<any, any, any, any, ZodTypeProvider>;

/** Adds a module's routes to the app. */
export type RouteModule = (app: App) => void | Promise<void>;

/** Finds the caller's session from the request's cookie; the auth module provides it. */
export type Authenticate = (request: FastifyRequest) => Promise<AuthContext | null>;

/** What the HTTP server needs from the composition root. */
export interface HttpServerOptions {
  logger: Logger;
  bodyLimit: number;
  trustProxy: boolean;
  /** HTTPS: a certificate and key, and optionally a per-name certificate (the block page's school CA). */
  https?: { cert: Buffer | string; key: Buffer | string; SNICallback?: (servername: string, done: (error: Error | null, context?: SecureContext) => void) => void };
  /** Runs on every request before the guard; may answer it (the block page takes requests for blocked host names). */
  intercept?: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  authenticate: Authenticate;
  routes: RouteModule[];
  /** The built React app (web/dist); served when present. */
  webDir?: string;
  /** Checks the store for /healthz. */
  healthCheck: () => Promise<void>;
  metrics?: Metrics;
}

/** One registered route and who may call it. */
export interface RouteEntry {
  method: string;
  url: string;
  access: RouteAccess;
}

const routeTables = new WeakMap<object, RouteEntry[]>();

/** Every route the app registered, with its declared access (for the permission tests). */
export function routeTable(app: App): RouteEntry[] {
  return routeTables.get(app) ?? [];
}

/** Builds the HTTP server (not yet listening). */
export async function createHttpServer(options: HttpServerOptions): Promise<App> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy,
    ...(options.https ? { https: options.https } : {}),
    // Ids that can be quoted by a user to the network manager and found in the log.
    genReqId: () => crypto.randomUUID().slice(0, 8),
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.decorateRequest('auth', null);
  const table: RouteEntry[] = [];
  routeTables.set(app, table);

  // Every route must declare who may call it; a route without one is a bug
  // that would otherwise be an open door.
  app.addHook('onRoute', (route) => {
    // The API docs and the built web app's files are public by nature.
    if (route.url.startsWith('/api/docs') || (route.config as { file?: string } | undefined)?.file) {
      route.config = { ...(route.config ?? {}), access: 'public' };
      return;
    }
    if (!route.config?.access && route.method !== 'HEAD') {
      throw new Error(`Route ${route.method} ${route.url} does not declare config.access`);
    }
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD' && route.config?.access) table.push({ method, url: route.url, access: route.config.access });
    }
  });

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    strictTransportSecurity: options.https ? { maxAge: 31536000 } : false,
    crossOriginEmbedderPolicy: false,
  });
  await app.register(fastifyCookie);

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Schoolgate API', version: '0.1.0', description: 'Self-hosted online safety for schools' },
      components: {
        securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'sg_session' } },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });

  const metrics = options.metrics ?? createMetrics();
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  // The guard runs before the body is parsed or validated: a caller who may not
  // use a route learns nothing from it and cannot make the server read a large body.
  if (options.intercept) app.addHook('onRequest', options.intercept);
  app.addHook('onRequest', guard(options.authenticate));

  app.get('/healthz', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    try {
      await options.healthCheck();
      return { status: 'ok' };
    } catch (error) {
      _request.log.error({ err: error }, 'health check failed');
      return reply.status(503).send({ status: 'unavailable' });
    }
  });
  app.get('/metrics', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  for (const routes of options.routes) await routes(app);

  await serveWebApp(app, options.webDir);
  return app;
}

/** Serves the built React app and sends index.html for its client-side routes. */
async function serveWebApp(app: App, webDir: string | undefined) {
  const hasApp = webDir !== undefined && existsSync(path.join(webDir, 'index.html'));
  if (hasApp) {
    await app.register(fastifyStatic, { root: webDir, wildcard: false, index: false, serve: true, prefix: '/' });
  }
  app.setNotFoundHandler(async (request, reply) => {
    const wantsPage = request.method === 'GET' && !request.url.startsWith('/api/') && hasApp;
    if (wantsPage) {
      const html = await readFile(path.join(webDir!, 'index.html'), 'utf8');
      return reply.type('text/html; charset=utf-8').send(html);
    }
    return reply.status(404).send({ error: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}`, requestId: request.id });
  });
}
