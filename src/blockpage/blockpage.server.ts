/**
 * The block page's own listeners: in production the address blocked names
 * point to answers on ports 80 and 443 with nothing but the block page,
 * whatever host or path the browser asked for. HTTPS certificates come from
 * the school root CA, one per blocked name.
 */
import tls from 'node:tls';
import type { Logger } from 'pino';
import { createHttpServer, type App } from '../http/server.ts';
import { parseHostPort } from '../shared/host-port.ts';
import { sniCallback, type SchoolCa } from './blockpage.ca.ts';
import { type BlockPageDeps, createBlockPage } from './blockpage.routes.ts';

export interface BlockPageListeners {
  /** Where each listener ended up (`http://…` or `https://…`). */
  addresses: string[];
  close(): Promise<void>;
}

/** Name on the default certificate, for clients that send no server name. */
const DEFAULT_NAME = 'block-page.schoolgate.invalid';

export async function startBlockPageListeners(options: {
  listen: string[];
  httpsListen: string[];
  ca: SchoolCa | null;
  logger: Logger;
  trustProxy: boolean;
  deps: BlockPageDeps;
}): Promise<BlockPageListeners> {
  const blockPage = createBlockPage(options.deps);
  const apps: App[] = [];
  const addresses: string[] = [];
  const make = async (https: boolean) => {
    let httpsOptions;
    if (https) {
      const fallback = (await options.ca!.issue(DEFAULT_NAME))!;
      httpsOptions = { ...fallback, SNICallback: sniCallback({ ca: () => options.ca, own: () => false, ownContext: tls.createSecureContext(fallback) }) };
    }
    return createHttpServer({
      logger: options.logger,
      bodyLimit: 16_384,
      trustProxy: options.trustProxy,
      https: httpsOptions,
      intercept: blockPage.intercept({ own: () => false, foreign: 'all', everything: true }),
      authenticate: async () => null,
      healthCheck: async () => {},
      routes: [blockPage.routes],
    });
  };
  try {
    for (const [list, https] of [[options.listen, false], [options.httpsListen, true]] as const) {
      for (const entry of list) {
        const { host, port } = parseHostPort(entry, https ? 443 : 80);
        const app = await make(https);
        apps.push(app);
        addresses.push(await app.listen({ host, port }));
      }
    }
  } catch (error) {
    await Promise.all(apps.map((a) => a.close()));
    throw error;
  }
  return {
    addresses,
    async close() {
      await Promise.all(apps.map((a) => a.close()));
    },
  };
}
