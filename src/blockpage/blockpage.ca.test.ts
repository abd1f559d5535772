/**
 * The school root CA and the self-signed web certificate: made once and read
 * back the same, the key readable by its owner only, a broken CA directory
 * refused rather than replaced, site certificates that chain to the root and
 * are re-issued before they end, and a real HTTPS server that serves the
 * self-signed certificate for DNS-over-HTTPS.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import { describe, it } from 'node:test';
import { selfSignedCertificate } from '../shared/certificates.ts';
import { tempDirs } from '../../test/support/temp.ts';
import { startTestApp } from '../../test/support/dialects.ts';
import { CA_FILES, openSchoolCa } from './blockpage.ca.ts';

const tempDir = tempDirs('ca');

describe('school root CA', () => {
  it('is made once, with its key readable by the owner only, and read back the same', async () => {
    const dir = path.join(tempDir(), 'ca');
    const first = await openSchoolCa(dir, 'Oakfield Academy');
    assert.equal(statSync(path.join(dir, CA_FILES.key)).mode & 0o777, 0o600);
    const root = new X509Certificate(first.certificatePem);
    assert.match(root.subject, /CN=Oakfield Academy Schoolgate Root CA/);
    assert.ok(root.ca);
    const again = await openSchoolCa(dir, 'A different name');
    assert.equal(again.fingerprint, first.fingerprint);
  });

  it('issues site certificates that chain to the root, for names and addresses, and none for nonsense', async () => {
    const ca = await openSchoolCa(tempDir(), 'Oakfield');
    const root = new X509Certificate(ca.certificatePem);
    const site = await ca.issue('Tinder.com.');
    const leaf = new X509Certificate(site!.cert);
    assert.equal(leaf.subjectAltName, 'DNS:tinder.com');
    assert.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey));
    assert.ok(!leaf.ca);
    assert.equal(new X509Certificate((await ca.issue('192.0.2.7'))!.cert).subjectAltName, 'IP Address:192.0.2.7');
    assert.equal(await ca.issue('bad name with spaces'), null);
    assert.equal(await ca.issue('a'.repeat(300)), null);
    assert.equal((await ca.issue('tinder.com'))!.cert, site!.cert, 'kept, not issued again');
  });

  it('re-issues a site certificate less than a day before it ends', async () => {
    let now = Date.now();
    const ca = await openSchoolCa(tempDir(), 'Oakfield', { clock: () => now });
    const first = (await ca.issue('example.org'))!.cert;
    now += 29.5 * 86_400_000;
    const second = (await ca.issue('example.org'))!.cert;
    assert.notEqual(second, first);
    assert.ok(Date.parse(new X509Certificate(second).validTo) > now + 29 * 86_400_000);
  });

  it('refuses a directory with only one of its files, or a key that is not the certificate’s, instead of making a new CA', async () => {
    const a = tempDir();
    const b = tempDir();
    await openSchoolCa(a, 'A');
    await openSchoolCa(b, 'B');
    const half = path.join(tempDir(), 'half');
    mkdirSync(half);
    copyFileSync(path.join(a, CA_FILES.cert), path.join(half, CA_FILES.cert));
    await assert.rejects(openSchoolCa(half, 'A'), /incomplete: root-ca\.key is missing/);
    copyFileSync(path.join(b, CA_FILES.key), path.join(half, CA_FILES.key));
    await assert.rejects(openSchoolCa(half, 'A'), /does not belong to/);
    writeFileSync(path.join(half, CA_FILES.key), 'not a key');
    await assert.rejects(openSchoolCa(half, 'A'), /cannot be read/);
  });
});

describe('self-signed web certificate', () => {
  it('is made once for the given names and read back after', async () => {
    const dir = path.join(tempDir(), 'tls');
    const made = await selfSignedCertificate(dir, ['schoolgate.oakfield.example', '127.0.0.1']);
    assert.equal(made.made, true);
    assert.equal(statSync(path.join(dir, 'server.key')).mode & 0o777, 0o600);
    assert.equal(new X509Certificate(made.cert).subjectAltName, 'DNS:schoolgate.oakfield.example, IP Address:127.0.0.1');
    const again = await selfSignedCertificate(dir, ['other.example']);
    assert.equal(again.made, false);
    assert.ok(again.cert.equals(made.cert));
  });

  it('serves the app and DNS-over-HTTPS over HTTPS when http.selfSignedTls is on', async () => {
    const t = await startTestApp('sqlite', { listen: true, overrides: { 'http.selfSignedTls': true } });
    try {
      assert.match(t.url, /^https:/);
      const cert = new X509Certificate(await (await import('node:fs/promises')).readFile(path.join(t.app.config.dataDir, 'tls', 'server.crt')));
      const status = await new Promise<number>((resolve, reject) => {
        request(`${t.url}/healthz`, { ca: cert.toString(), servername: 'localhost' }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
          .on('error', reject)
          .end();
      });
      assert.equal(status, 200, 'a client that trusts the certificate connects to https://localhost');
      // DNS is off in this app, so DoH says so: the route is there over HTTPS.
      const doh = await new Promise<number>((resolve, reject) => {
        request(`${t.url}/dns-query?dns=AAABAAABAAAAAAAAB2V4YW1wbGUDb3JnAAABAAE`, { ca: cert.toString(), servername: 'localhost' }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
          .on('error', reject)
          .end();
      });
      assert.equal(doh, 503);
    } finally {
      await t.close();
    }
  });
});
