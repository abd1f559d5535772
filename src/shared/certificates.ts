/**
 * Making X.509 certificates: the self-signed web certificate made at first
 * start and the school root CA of the block page. `node:crypto` reads
 * certificates but cannot make them, so `@peculiar/x509` builds them over
 * WebCrypto. It is loaded on first use: installs that make no certificates
 * never load it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';

export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const DAY_MS = 86_400_000;

/** The X.509 library, ready to use (it needs the Reflect metadata polyfill and a WebCrypto provider). */
export async function x509Library() {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(globalThis.crypto);
  return x509;
}

/** DER bytes as PEM text. */
export const toPem = (label: string, der: ArrayBuffer) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;

/** A positive, non-zero serial number of 16 random bytes, as hex. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** A subject alternative name entry for a host name or address. */
export const altName = (name: string) => ({ type: isIP(name) ? ('ip' as const) : ('dns' as const), value: name });

/** Writes a key (readable by the owner only) and its certificate; refuses to overwrite either. */
export function writeKeyPair(dir: string, files: { cert: string; key: string }, pem: { cert: string; key: string }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, files.key);
  writeFileSync(keyFile, pem.key, { mode: 0o600, flag: 'wx' });
  chmodSync(keyFile, 0o600);
  writeFileSync(path.join(dir, files.cert), pem.cert, { flag: 'wx' });
}

const SERVER_FILES = { cert: 'server.crt', key: 'server.key' } as const;

/**
 * The web server's self-signed certificate in `dir`, made the first time for
 * `names` (host names and addresses) and valid for a year and a month; later
 * starts read the same files.
 */
export async function selfSignedCertificate(dir: string, names: string[]): Promise<{ cert: Buffer; key: Buffer; made: boolean }> {
  const certFile = path.join(dir, SERVER_FILES.cert);
  const keyFile = path.join(dir, SERVER_FILES.key);
  if (existsSync(certFile) && existsSync(keyFile)) return { cert: readFileSync(certFile), key: readFileSync(keyFile), made: false };
  const x509 = await x509Library();
  const subtle = globalThis.crypto.subtle;
  const keys = await subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${names[0]}, O=Schoolgate`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 395 * DAY_MS),
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...new Set(names)].map(altName)),
    ],
  });
  const pem = { cert: cert.toString('pem') + '\n', key: toPem('PRIVATE KEY', await subtle.exportKey('pkcs8', keys.privateKey)) };
  writeKeyPair(dir, SERVER_FILES, pem);
  return { cert: Buffer.from(pem.cert), key: Buffer.from(pem.key), made: true };
}
