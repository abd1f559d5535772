/**
 * Single sign-on with Google Workspace and Microsoft Entra ID over OpenID
 * Connect (openid-client v6): authorization code flow with PKCE, state and
 * nonce. Only ID tokens from the school's own Google domain (`hd`) or Entra
 * tenant (`tid`) are accepted. This file talks to the provider; linking to
 * accounts is the service's job.
 */
import * as oidc from 'openid-client';
import type { Config } from '../config/config.ts';

/** The providers Schoolgate knows. */
export const SSO_PROVIDERS = ['google', 'microsoft'] as const;
export type SsoProvider = (typeof SSO_PROVIDERS)[number];

/** What the service learns from a successful provider sign-in. */
export interface SsoIdentity {
  provider: SsoProvider;
  issuer: string;
  subject: string;
  /** The email the provider vouches for, or null when it does not. */
  email: string | null;
}

/** What must be remembered between start and callback (kept in a sealed cookie). */
export interface SsoPending {
  provider: SsoProvider;
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  /** Epoch ms after which the callback is refused. */
  expires: number;
}

/** A configured provider. */
export interface SsoClient {
  id: SsoProvider;
  name: string;
  /** Builds the provider's authorization URL and what the callback must check. */
  start(redirectUri: string): Promise<{ url: string; pending: SsoPending }>;
  /** Exchanges the code, validates the ID token and the school restriction; throws a plain message on refusal. */
  finish(callbackUrl: URL, pending: SsoPending): Promise<SsoIdentity>;
}

/** A refusal whose message can be shown to the person signing in. */
export class SsoRefused extends Error {}

const isLoopback = (url: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);

interface ProviderSettings {
  id: SsoProvider;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Says why the claims are not from the school's domain or tenant, or null if they are. */
  restrict(claims: Record<string, unknown>): string | null;
  /** The verified email in the claims, or null. */
  email(claims: Record<string, unknown>): string | null;
  /** Extra authorization parameters (Google's `hd` hint narrows the account chooser; it is not a check). */
  hints: Record<string, string>;
}

function settingsOf(config: Config['auth']): ProviderSettings[] {
  const list: ProviderSettings[] = [];
  if (config.google) {
    const g = config.google;
    list.push({
      id: 'google',
      name: 'Google',
      issuer: g.issuer,
      clientId: g.clientId,
      clientSecret: g.clientSecret.reveal(),
      // `hd` is only present for Workspace accounts; a personal gmail.com account has none.
      restrict: (c) => (c.hd === g.hostedDomain ? null : `Sign in with your ${g.hostedDomain} school Google account`),
      email: (c) => (typeof c.email === 'string' && c.email_verified === true ? c.email.toLowerCase() : null),
      hints: { hd: g.hostedDomain },
    });
  }
  if (config.microsoft) {
    const m = config.microsoft;
    list.push({
      id: 'microsoft',
      name: 'Microsoft',
      issuer: m.issuer ?? `https://login.microsoftonline.com/${m.tenantId}/v2.0`,
      clientId: m.clientId,
      clientSecret: m.clientSecret.reveal(),
      restrict: (c) => (c.tid === m.tenantId ? null : 'Sign in with your school Microsoft account'),
      // Entra's `email` is set by the tenant's own admins; with `tid` pinned to the
      // school's tenant it is the school's directory speaking, not the user.
      email: (c) => (typeof c.email === 'string' ? c.email.toLowerCase() : null),
      hints: {},
    });
  }
  return list;
}

function client(settings: ProviderSettings): SsoClient {
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    discovered ??= (async () => {
      const issuer = new URL(settings.issuer);
      // Plain HTTP is allowed only for a provider on this machine (tests, a local dev IdP).
      const insecure = issuer.protocol === 'http:' && isLoopback(issuer);
      return oidc.discovery(issuer, settings.clientId, settings.clientSecret, undefined, insecure ? { execute: [oidc.allowInsecureRequests] } : undefined);
    })();
    // A failed discovery (provider down) is retried next time rather than cached.
    discovered.catch(() => {
      discovered = undefined;
    });
    return discovered;
  };
  return {
    id: settings.id,
    name: settings.name,
    async start(redirectUri) {
      const config = await configuration();
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const params: Record<string, string> = {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      };
      Object.assign(params, settings.hints);
      const url = oidc.buildAuthorizationUrl(config, params);
      return { url: url.href, pending: { provider: settings.id, state, nonce, verifier, redirectUri, expires: Date.now() + 10 * 60_000 } };
    },
    async finish(callbackUrl, pending) {
      if (Date.now() > pending.expires) throw new SsoRefused('The sign-in took too long; try again');
      const config = await configuration();
      let tokens;
      try {
        tokens = await oidc.authorizationCodeGrant(
          config,
          callbackUrl,
          { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true },
          undefined,
          { redirectUri: pending.redirectUri } as oidc.AuthorizationCodeGrantOptions,
        );
      } catch (error) {
        const err = error as { error?: string; error_description?: string; message?: string };
        if (err.error === 'access_denied') throw new SsoRefused('Sign-in was cancelled');
        throw new SsoRefused(`The sign-in could not be completed (${err.error ?? err.message ?? 'provider error'})`);
      }
      const claims = (tokens.claims() ?? {}) as Record<string, unknown>;
      const refusal = settings.restrict(claims);
      if (refusal) throw new SsoRefused(refusal);
      if (typeof claims.sub !== 'string' || typeof claims.iss !== 'string') throw new SsoRefused('The provider sent no subject');
      return { provider: settings.id, issuer: claims.iss, subject: claims.sub, email: settings.email(claims) };
    },
  };
}

/** The configured SSO providers (none when the config has neither). */
export function createSsoClients(config: Config['auth']): Map<SsoProvider, SsoClient> {
  return new Map(settingsOf(config).map((s) => [s.id, client(s)]));
}
