/**
 * The block page on the web server. A blocked name is answered with the
 * block page's address, so the browser comes here asking for the blocked
 * host; `intercept` answers such requests with the page, whatever their
 * path. The page asks a DNS
 * worker why the name is blocked for the address the request came from (the
 * same identity and policy the DNS answer had), and offers a review request.
 *
 * Routes (all `open`: the people who see them are not signed in):
 * - `GET /blocked?site=NAME`: the page;
 * - `POST /blocked/review`: a review request (a form post, no script);
 * - `GET /blocked/status/TOKEN`: what became of a review request (the link
 *   the page gives after sending one; the token is the key, no sign-in);
 * - `GET /blocked/ca.crt`: the school root CA, when there is one.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Explanation, FilterEngine } from '../filter/engine.ts';
import { normalizeName } from '../filter/list-formats.ts';
import type { App } from '../http/server.ts';
import type { PolicyService } from '../policy/policy.service.ts';
import type { UnblockRequests } from '../policy/policy.requests.ts';
import { DomainError } from '../shared/errors.ts';
import type { SchoolCa } from './blockpage.ca.ts';
import { blockPage, DEFAULT_NOTICE, isBlocked, type PageContext, requestRefusedPage, requestSentPage, requestStatusPage } from './blockpage.page.ts';

export interface BlockPageDeps {
  /** The running DNS engine, or null (then the page says less). */
  engine(): FilterEngine | null;
  /** The school the filter serves. */
  school(): Promise<{ id: string; name: string; timezone: string } | null>;
  policy: Pick<PolicyService, 'getSettings'>;
  requests: UnblockRequests;
  ca(): SchoolCa | null;
  /** The filter check's probe (src/checks): answers a probe request for a foreign host and returns true, else false. */
  probe?(request: FastifyRequest, reply: FastifyReply, site: string): Promise<boolean>;
}

const FORM = 'application/x-www-form-urlencoded';
const EXPLAIN_TIMEOUT_MS = 1000;

/** A host name from a Host header, lower case, without port or trailing dot; null for none, an address, or nonsense. */
export function siteFromHost(host: string | undefined): string | null {
  if (!host || host.startsWith('[')) return null;
  const checked = normalizeName(host.replace(/:\d*$/, ''), true);
  return checked.ok && !checked.ip ? checked.name : null;
}

/** A site name from the page's query or form, or null when it is not a host name. */
function siteParam(value: string | undefined): string | null {
  return value ? siteFromHost(value.trim()) : null;
}

/** How a server treats requests for host names that are not the app's. */
export interface InterceptOptions {
  /** Whether a host name is the app's own (never intercepted). */
  own(host: string): boolean;
  /**
   * `all`: every request for another host name gets the block page (the
   * app's host names are all known: a public URL is set; or the block page's
   * own listeners, which also answer their own address with it).
   * `blocked`: only names the filter blocks for the address asking; others
   * reach the app (an install reached by a name nobody configured).
   */
  foreign: 'all' | 'blocked';
  /** Requests for the app's own names and addresses get the block page too (the block page's own listeners). */
  everything?: boolean;
}

/**
 * The block page: its routes, and `intercept`, an `onRequest` hook (run
 * before the route guard) that answers requests for blocked host names with
 * the page, whatever their path. `/blocked/…` is never intercepted, so the
 * page's form and the CA download work from any host name; nor is
 * `/dns-query`, so DNS-over-HTTPS works under any host name.
 */
export function createBlockPage(deps: BlockPageDeps) {
  async function explain(site: string, address: string): Promise<Explanation | null> {
    const engine = deps.engine();
    if (!engine) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(resolve, EXPLAIN_TIMEOUT_MS, null)));
    try {
      return await Promise.race([engine.explain(site, { address, token: null }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function pageContext(request: FastifyRequest): Promise<{ context: PageContext; schoolId: string | null }> {
    const school = await deps.school();
    const settings = school ? await deps.policy.getSettings(school.id) : null;
    const schoolName = school?.name ?? 'The school';
    return {
      schoolId: school?.id ?? null,
      context: {
        schoolName,
        timezone: school?.timezone ?? 'Europe/London',
        notice: settings?.blockPageNotice || DEFAULT_NOTICE(schoolName),
        contact: settings?.blockPageContact ?? null,
        reference: request.id,
        now: new Date(),
      },
    };
  }

  /** Block pages are never cached, never framed, and never pin HTTPS on a name that is not ours. */
  function send(reply: FastifyReply, status: number, html: string) {
    reply.removeHeader('strict-transport-security');
    return reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
  }

  /** Renders the page for `site` (null: no site named) as the filter decides it for the address asking. */
  async function show(request: FastifyRequest, reply: FastifyReply, site: string | null, known?: Explanation | null) {
    const [{ context }, explanation] = await Promise.all([pageContext(request), known !== undefined ? known : site ? explain(site, request.ip) : null]);
    return send(reply, site && isBlocked(explanation) ? 403 : 200, blockPage(site, explanation, context));
  }

  function intercept(options: InterceptOptions) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const url = request.url;
      if (url === '/blocked' || url.startsWith('/blocked/') || url.startsWith('/blocked?')) return;
      // DNS-over-HTTPS reaches its route whatever host name the device was given for it.
      if (url === '/dns-query' || url.startsWith('/dns-query/') || url.startsWith('/dns-query?')) return;
      const site = siteFromHost(request.headers.host);
      if (site === null || options.own(site)) {
        if (options.everything) return show(request, reply, null);
        return;
      }
      // A device check page's probe: the device's DNS sent this name here, which is what it checks.
      if (deps.probe && url.startsWith('/check/probe/') && (await deps.probe(request, reply, site))) return reply;
      if (options.foreign === 'all') return show(request, reply, site);
      const explanation = await explain(site, request.ip);
      if (isBlocked(explanation) && explanation !== null) return show(request, reply, site, explanation);
    };
  }

  const routes = (app: App) => {
    app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 16_384 }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    app.get(
      '/blocked',
      {
        config: { access: 'open' },
        schema: {
          tags: ['filter'],
          summary: 'The block page for a site, as the filter decides it for the address asking',
          querystring: z.object({ site: z.string().max(300).optional() }),
        },
      },
      async (request, reply) => show(request, reply, siteParam(request.query.site)),
    );

    app.post(
      '/blocked/review',
      {
        config: { access: 'open' },
        schema: {
          tags: ['filter'],
          summary: 'Ask the network manager to review a block (a form post from the block page)',
          body: z.object({ site: z.string().max(300).optional(), message: z.string().max(5000).optional(), name: z.string().max(500).optional() }),
        },
      },
      async (request, reply) => {
        const body = request.body;
        const site = siteParam(body.site);
        const { context, schoolId } = await pageContext(request);
        if (!site || !schoolId) return send(reply, 400, blockPage(null, null, context));
        const explanation = await explain(site, request.ip);
        try {
          const { request: saved, repeated, statusToken } = await deps.requests.submit(schoolId, { site, message: body.message ?? '', name: body.name }, { clientAddress: request.ip, explanation });
          request.log.info({ unblockRequest: saved.id, site, repeated }, 'review of a block requested');
          return send(reply, repeated ? 200 : 201, requestSentPage(site, repeated, saved.id, context, statusToken ? `/blocked/status/${statusToken}` : null));
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          if (error.code === 'rate_limited') return send(reply, 429, requestRefusedPage(error.message, context));
          const errors = Object.fromEntries(error.issues.map((i) => [i.where, `This ${i.where === 'name' ? 'name' : 'answer'} ${i.message}.`]));
          return send(reply, 400, blockPage(site, explanation, context, { values: { message: body.message, name: body.name }, errors }));
        }
      },
    );

    app.get(
      '/blocked/status/:token',
      {
        config: { access: 'open' },
        schema: {
          tags: ['filter'],
          summary: 'What became of a review request: pending, approved until when, or refused with the reason (the token is the key)',
          params: z.object({ token: z.string().max(100) }),
        },
      },
      async (request, reply) => {
        const [{ context }, status] = await Promise.all([pageContext(request), deps.requests.statusByToken(request.params.token)]);
        // The token is the only key: say nothing else about the request, and keep it out of other sites' referrers.
        reply.header('referrer-policy', 'no-referrer');
        return send(reply, status ? 200 : 404, requestStatusPage(status, context));
      },
    );

    app.get(
      '/blocked/ca.crt',
      { config: { access: 'open' }, schema: { tags: ['filter'], summary: 'The school root CA certificate for HTTPS block pages (install it on managed devices)' } },
      async (_request, reply) => {
        const ca = deps.ca();
        if (!ca) return reply.status(404).send({ error: 'not_found', message: 'There is no school root CA: set blockPage.rootCa to make one.' });
        return reply.header('content-type', 'application/x-x509-ca-cert').header('content-disposition', 'attachment; filename="schoolgate-root-ca.crt"').send(ca.certificatePem);
      },
    );
  };

  return { routes, intercept };
}
