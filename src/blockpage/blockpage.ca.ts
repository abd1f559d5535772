/**
 * The school root CA for the HTTPS block page. A browser that was sent to the
 * block page for `https://blocked.example` expects a certificate for
 * `blocked.example`; with this CA installed on managed devices (by MDM) the
 * server issues one on the fly and the browser shows the block page instead
 * of a certificate error. Without it, HTTPS blocks show as connection errors
 * (the DNS answer still blocks).
 *
 * Schoolgate makes the CA once (ECDSA P-256, ten years) and keeps it in the
 * data directory: `root-ca.crt` to hand to MDM, `root-ca.key` readable by the
 * service only. `node:crypto` cannot issue certificates, so `@peculiar/x509`
 * builds them over WebCrypto. Site certificates share one key made at start,
 * last 30 days, are kept in memory (most recently used first) and are
 * re-issued before they end.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { normalizeName } from '../filter/list-formats.ts';
import { altName, DAY_MS, EC_P256 as ALGORITHM, randomSerial as serial, toPem, writeKeyPair, x509Library } from '../shared/certificates.ts';
const ROOT_DAYS = 3650;
const SITE_DAYS = 30;
/** A site certificate is re-issued when less than this is left. */
const RENEW_MS = DAY_MS;
const MAX_CACHED = 2000;

export interface SchoolCa {
  /** The root certificate (PEM), for managed devices to trust. */
  readonly certificatePem: string;
  /** SHA-256 fingerprint of the root, as MDM consoles show it. */
  readonly fingerprint: string;
  /** A certificate and key (PEM) for `name`, signed by the root; null for a name no certificate can be made for. */
  issue(name: string): Promise<{ cert: string; key: string } | null>;
  /** A TLS context for `name` (issued on first use, then kept). */
  contextFor(name: string): Promise<tls.SecureContext | null>;
}

interface Issued {
  pem: { cert: string; key: string };
  context: tls.SecureContext;
  endsAt: number;
}

export const CA_FILES = { cert: 'root-ca.crt', key: 'root-ca.key' } as const;

/**
 * Opens the school's CA in `dir`, making it the first time. Refuses a
 * directory with only one of the two files, or a key that does not belong to
 * the certificate, rather than silently making a new CA that devices do not
 * trust.
 */
export async function openSchoolCa(dir: string, schoolName: string, options: { clock?: () => number } = {}): Promise<SchoolCa> {
  const x509 = await x509Library();
  const subtle = globalThis.crypto.subtle;
  const clock = options.clock ?? Date.now;
  const certFile = path.join(dir, CA_FILES.cert);
  const keyFile = path.join(dir, CA_FILES.key);

  let rootPem: string;
  let rootKeyPem: string;
  const haveCert = existsSync(certFile);
  const haveKey = existsSync(keyFile);
  if (haveCert !== haveKey) {
    throw new Error(`The block page CA in ${dir} is incomplete: ${haveCert ? CA_FILES.key : CA_FILES.cert} is missing. Restore it from a backup, or move both files away to make a new CA (devices must then be given the new one).`);
  }
  if (haveCert) {
    rootPem = readFileSync(certFile, 'utf8');
    rootKeyPem = readFileSync(keyFile, 'utf8');
    let matches = false;
    try {
      const spki = (key: ReturnType<typeof createPublicKey>) => key.export({ type: 'spki', format: 'der' });
      matches = spki(createPublicKey(createPrivateKey(rootKeyPem))).equals(spki(new X509Certificate(rootPem).publicKey));
    } catch (error) {
      throw new Error(`The block page CA in ${dir} cannot be read: ${(error as Error).message}`);
    }
    if (!matches) throw new Error(`The block page CA key in ${keyFile} does not belong to ${certFile}`);
  } else {
    const keys = await subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
    const now = clock();
    const name = `CN=${schoolName.replace(/[,+="\\<>;#]/g, ' ').trim() || 'School'} Schoolgate Root CA, O=Schoolgate`;
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + ROOT_DAYS * DAY_MS),
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    rootPem = root.toString('pem') + '\n';
    rootKeyPem = toPem('PRIVATE KEY', await subtle.exportKey('pkcs8', keys.privateKey));
    writeKeyPair(dir, CA_FILES, { cert: rootPem, key: rootKeyPem });
  }

  const root = new x509.X509Certificate(rootPem);
  const rootKey = await subtle.importKey('pkcs8', createPrivateKey(rootKeyPem).export({ type: 'pkcs8', format: 'der' }), ALGORITHM, false, ['sign']);
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(root, false);
  const siteKeys = await subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const siteKeyPem = toPem('PRIVATE KEY', await subtle.exportKey('pkcs8', siteKeys.privateKey));
  const fingerprint = new X509Certificate(rootPem).fingerprint256;

  /** Issued certificates by name, most recently used last (a Map keeps insertion order). */
  const issued = new Map<string, Promise<Issued | null>>();

  function issueFresh(name: string): Promise<Issued> {
    return (async () => {
      const now = clock();
      const endsAt = now + SITE_DAYS * DAY_MS;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${name}`,
        issuer: root.subject,
        notBefore: new Date(now - 3_600_000),
        notAfter: new Date(endsAt),
        signingKey: rootKey,
        publicKey: siteKeys.publicKey,
        signingAlgorithm: ALGORITHM,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension([altName(name)]),
          authorityKeyId,
        ],
      });
      const pem = { cert: cert.toString('pem') + '\n' + rootPem, key: siteKeyPem };
      return { pem, context: tls.createSecureContext(pem), endsAt };
    })();
  }

  function entry(rawName: string): Promise<Issued | null> {
    // A certificate only for what could be a host name or address (the same check list entries get).
    const checked = normalizeName(rawName, true);
    if (!checked.ok) return Promise.resolve(null);
    const name = checked.name;
    let pending = issued.get(name);
    if (pending) {
      issued.delete(name);
      issued.set(name, pending);
      return pending.then((done) => {
        if (done && done.endsAt - clock() > RENEW_MS) return done;
        issued.delete(name);
        return entry(name);
      });
    }
    pending = issueFresh(name);
    issued.set(name, pending);
    // A failed issue is not kept: the next handshake tries again.
    pending.catch(() => issued.delete(name));
    if (issued.size > MAX_CACHED) issued.delete(issued.keys().next().value!);
    return pending;
  }

  return {
    certificatePem: rootPem,
    fingerprint,
    async issue(name) {
      return (await entry(name))?.pem ?? null;
    },
    async contextFor(name) {
      return (await entry(name))?.context ?? null;
    },
  };
}

/**
 * A TLS `SNICallback`: names for which `own(name)` is true get `ownContext`
 * (the web app's certificate), any other name a certificate from the school
 * CA; without a CA, or for a name no certificate can be made for, the
 * default certificate.
 */
export function sniCallback(options: { ca: () => SchoolCa | null; own: (name: string) => boolean; ownContext?: tls.SecureContext }) {
  return (servername: string, done: (error: Error | null, context?: tls.SecureContext) => void) => {
    const ca = options.ca();
    if (options.own(servername) || !ca) return done(null, options.ownContext);
    ca.contextFor(servername).then(
      (context) => done(null, context ?? options.ownContext),
      (error: Error) => done(error),
    );
  };
}
