/** Row types of the monitor's tables. */

export interface FilterEventsTable {
  school_id: string;
  time: string;
  client: string;
  transport: string;
  network_id: string | null;
  device_id: string | null;
  person_id: string | null;
  group_id: string | null;
  name: string;
  qtype: number;
  kind: string;
  rule: string;
  category: string | null;
  reason: string;
  matched: string | null;
  rcode: number;
  cached: number;
  latency_us: number;
  upstream: string | null;
  policy_version: number;
}
