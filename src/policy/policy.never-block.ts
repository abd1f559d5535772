/**
 * Names a school depends on that no category or deny entry may block: signing
 * in to Microsoft 365 and Google Workspace, operating system and browser
 * updates, and the captive-portal checks devices use to decide whether they are
 * online. A school sees this list and can switch an entry off (with a reason)
 * or add its own; only `illegal` and sanctions beat a never-block entry.
 * Each entry covers its subdomains unless it starts with `=`.
 */

/** One built-in entry and the service it keeps working. */
export interface NeverBlockEntry {
  entry: string;
  service: string;
}

const group = (service: string, entries: string[]): NeverBlockEntry[] => entries.map((entry) => ({ entry, service }));

/** The built-in list, in the order the settings page shows it. */
export const BUILT_IN_NEVER_BLOCK: readonly NeverBlockEntry[] = [
  ...group('Microsoft 365 sign-in and apps', [
    'login.microsoftonline.com', 'login.microsoft.com', 'login.windows.net', 'login.live.com', 'aadcdn.msauth.net',
    'aadcdn.msftauth.net', 'office.com', 'office.net', 'office365.com', 'microsoft365.com', 'sharepoint.com',
    'teams.microsoft.com', 'graph.microsoft.com', 'officeapps.live.com', 'onenote.com',
  ]),
  ...group('Google Workspace sign-in and apps', [
    'accounts.google.com', 'apis.google.com', 'docs.google.com', 'drive.google.com', 'classroom.google.com',
    'mail.google.com', 'calendar.google.com', 'meet.google.com', 'ssl.gstatic.com', 'www.gstatic.com',
  ]),
  ...group('Windows Update', ['windowsupdate.com', 'update.microsoft.com', 'delivery.mp.microsoft.com']),
  ...group('Apple software update and device management', [
    'mesu.apple.com', 'updates.cdn-apple.com', 'swscan.apple.com', 'swdist.apple.com', 'swcdn.apple.com', 'gdmf.apple.com',
    'ocsp.apple.com', 'ocsp2.apple.com', 'valid.apple.com', 'push.apple.com', 'albert.apple.com', 'deviceenrollment.apple.com',
    'mdmenrollment.apple.com', 'iprofiles.apple.com',
  ]),
  ...group('ChromeOS and Chrome updates and management', [
    'tools.google.com', 'dl.google.com', 'update.googleapis.com', 'clients2.google.com', 'm.google.com', 'gvt1.com',
  ]),
  ...group('Android updates and device management', ['android.clients.google.com', 'android.googleapis.com', 'play.googleapis.com']),
  ...group('Browser updates (Edge, Firefox)', ['msedge.api.cdp.microsoft.com', 'edge.microsoft.com', 'aus5.mozilla.org', 'download.mozilla.org']),
  ...group('Captive-portal and connectivity checks', [
    'connectivitycheck.gstatic.com', 'connectivitycheck.android.com', 'clients3.google.com', 'captive.apple.com',
    '=www.apple.com', 'www.msftconnecttest.com', 'ipv6.msftconnecttest.com', 'www.msftncsi.com', 'detectportal.firefox.com',
    'nmcheck.gnome.org', 'connectivity-check.ubuntu.com',
  ]),
];

/** Whether an entry is on the built-in list. */
export const isBuiltInNeverBlock = (entry: string) => BUILT_IN_NEVER_BLOCK.some((e) => e.entry === entry);
