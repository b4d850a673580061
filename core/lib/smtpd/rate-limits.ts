import { formatIP, parseIP } from "../base/ip-addr.ts";

/**
 * Rate limits per client (qm-smtpd(8), "Rate limits"; control/ratelimits,
 * `name:limit` a line, per minute), as Postfix's anvil counts them: the
 * connections a client opens, the messages (MAIL commands taken) and the
 * recipients (RCPT commands taken) it sends. A client is one IPv4 address
 * or one IPv6 /64. The counts are kept by the listener process (the table
 * below); the clock is passed in.
 */
export type RateName = "connections" | "messages" | "recipients";
export type RateLimits = Readonly<Record<RateName, number>>; // 0: no limit

export const NO_LIMITS: RateLimits = { connections: 0, messages: 0, recipients: 0 };
/** The window every limit counts in (anvil's time unit: a minute). */
export const WINDOW_MS = 60_000;
/** Clients a table remembers (about 100 bytes each); at the bound the oldest window goes first. */
export const MAX_CLIENTS = 50_000;
const MAX_LIMIT = 1_000_000;

const NAMES = new Map<string, RateName>([["connections", "connections"], ["messages", "messages"], ["recipients", "recipients"]]);

export function parseRateLimits(lines: readonly string[]): { limits: RateLimits; warnings: string[] } {
  const limits: Record<RateName, number> = { ...NO_LIMITS };
  const warnings: string[] = [];
  lines.forEach((line, i) => {
    const m = /^\s*([^:\s]+)\s*:\s*(\S*)\s*$/.exec(line);
    const name = m ? NAMES.get((m[1] ?? "").toLowerCase()) : undefined;
    const bad = (why: string) => warnings.push(`control/ratelimits line ${i + 1}: ${why}; line ignored`);
    if (!m || name === undefined) return bad(`"${line.slice(0, 60).replace(/[^\x20-\x7e]/g, "?")}" is not connections:N, messages:N or recipients:N`);
    if (!/^\d{1,7}$/.test(m[2] ?? "") || Number(m[2]) > MAX_LIMIT) return bad(`the limit of ${name} must be a number from 0 to ${MAX_LIMIT}`);
    limits[name] = Number(m[2]);
  });
  return { limits, warnings };
}

/** The client a count belongs to: the IPv4 address, or the IPv6 /64 ("2001:db8:1:2::/64"). */
export function clientKey(ip: string): string {
  const b = parseIP(ip);
  if (!b) return ip;
  if (b.length === 4) return formatIP(b);
  const net = new Uint8Array(16);
  net.set(b.subarray(0, 8));
  return `${formatIP(net)}/64`;
}

interface Window {
  start: number;
  readonly counts: Record<RateName, number>;
}
export interface RateTable {
  readonly clients: Map<string, Window>;
  readonly max: number;
}

export function newRateTable(max = MAX_CLIENTS): RateTable {
  return { clients: new Map(), max };
}

/**
 * One more `name` event of `key`'s: false when it would go over `limit` in
 * the current window (the event is then not counted), true when it is taken.
 * A window starts at a client's first event and lasts WINDOW_MS.
 */
export function takeEvent(t: RateTable, key: string, name: RateName, limit: number, now: number): boolean {
  if (limit <= 0) return true;
  let w = t.clients.get(key);
  if (w && now - w.start >= WINDOW_MS) {
    t.clients.delete(key);
    w = undefined;
  }
  if (!w) {
    makeRoom(t, now);
    w = { start: now, counts: { connections: 0, messages: 0, recipients: 0 } };
    t.clients.set(key, w);
  }
  if (w.counts[name] >= limit) return false;
  w.counts[name]++;
  return true;
}

function makeRoom(t: RateTable, now: number): void {
  if (t.clients.size < t.max) return;
  for (const [k, w] of t.clients) if (now - w.start >= WINDOW_MS) t.clients.delete(k);
  while (t.clients.size >= t.max) t.clients.delete(t.clients.keys().next().value as string);
}

/** The reply for a client over a limit: 421 for connections (the session ends), 450 otherwise. */
export function overLimit(name: RateName, limit: number, key: string): string {
  if (name === "connections") return `421 4.7.0 too many connections from ${key} (limit ${limit} a minute); try again later`;
  return `450 4.7.1 too many ${name} from ${key} (limit ${limit} a minute); try again later`;
}
