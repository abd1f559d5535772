/**
 * An Apple configuration profile (`.mobileconfig`, an XML property list) that
 * points a device's system DNS at the school's DNS-over-HTTPS endpoint with
 * the device's own path token: one `com.apple.dnsSettings.managed` payload,
 * DNSProtocol HTTPS, ServerURL `<base>/dns-query/<token>`. The identifiers and
 * UUIDs are derived from the device id, so a new profile for the same device
 * replaces the old one on install instead of sitting beside it.
 */
import { createHash } from 'node:crypto';

/** What goes into a profile. */
export interface ProfileInput {
  deviceId: string;
  deviceName: string;
  schoolName: string;
  /** The full DoH URL, token included. */
  serverUrl: string;
}

/** A UUID (RFC 9562 version 8, "custom") that is the same for the same seed. */
export function stableUuid(seed: string): string {
  const bytes = createHash('sha256').update(seed).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const escapeXml = (text: string) =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** The PayloadIdentifier of a device's profile (the DNS payload adds `.dns`). */
export const profileIdentifier = (deviceId: string) => `org.schoolgate.doh.${deviceId}`;

/** The profile as XML text. */
export function appleDohProfile(input: ProfileInput): string {
  const id = profileIdentifier(input.deviceId);
  const s = (value: string) => `<string>${escapeXml(value)}</string>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>PayloadContent</key>',
    '  <array>',
    '    <dict>',
    '      <key>DNSSettings</key>',
    '      <dict>',
    `        <key>DNSProtocol</key>${s('HTTPS')}`,
    `        <key>ServerURL</key>${s(input.serverUrl)}`,
    '      </dict>',
    `      <key>PayloadDisplayName</key>${s('School web filter (encrypted DNS)')}`,
    `      <key>PayloadIdentifier</key>${s(`${id}.dns`)}`,
    `      <key>PayloadType</key>${s('com.apple.dnsSettings.managed')}`,
    `      <key>PayloadUUID</key>${s(stableUuid(`schoolgate:doh-payload:${input.deviceId}`))}`,
    '      <key>PayloadVersion</key><integer>1</integer>',
    '    </dict>',
    '  </array>',
    `  <key>PayloadDescription</key>${s(`Sends this device's DNS to ${input.schoolName}'s web filter over HTTPS. Made for ${input.deviceName}; do not install it on another device.`)}`,
    `  <key>PayloadDisplayName</key>${s(`${input.schoolName}: web filter for ${input.deviceName}`)}`,
    `  <key>PayloadIdentifier</key>${s(id)}`,
    `  <key>PayloadOrganization</key>${s(input.schoolName)}`,
    `  <key>PayloadType</key>${s('Configuration')}`,
    `  <key>PayloadUUID</key>${s(stableUuid(`schoolgate:doh-profile:${input.deviceId}`))}`,
    '  <key>PayloadVersion</key><integer>1</integer>',
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}
