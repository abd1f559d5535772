/** Row types of the devices module's tables (see migration 0310). */

/** The platforms a device can be. */
export const PLATFORMS = ['windows', 'macos', 'ios', 'ipados', 'chromeos', 'android', 'linux', 'other'] as const;
/** One of the platforms. */
export type Platform = (typeof PLATFORMS)[number];

/** A device row. Retired devices keep their row. */
export interface DevicesTable {
  id: string;
  school_id: string;
  name: string;
  asset_tag: string | null;
  serial: string | null;
  platform: Platform;
  owner_id: string | null;
  group_id: string | null;
  /** SHA-256 (lower-case hex) of the DoH path token; the token itself is never stored. */
  token_hash: string;
  token_rotated_at: string;
  created_at: string;
  updated_at: string;
  /** Set when the device is retired; a retired device drops out of the filter. */
  retired_at: string | null;
}
