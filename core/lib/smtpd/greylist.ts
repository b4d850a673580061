import { formatIP, parseIP } from "../base/ip-addr.ts";

/**
 * Greylisting (qm-smtpd(8), "Greylisting"; control/greylist, off when the
 * file is absent): the first attempt of an unknown (client network, sender,
 * recipient) triple gets 451 4.7.1; a retry after `delay` passes, and the
 * triple then passes at once until it has not been seen for `lifetime`.
 * The network is the client's /24 (IPv4) or /64 (IPv6), since big senders
 * retry from a neighbouring address. Pure: the records live in
 * core/io/smtpd/greylist-store.ts; the clock is passed in.
 */
export interface GreylistConfig {
  readonly delay: number; // seconds
  readonly lifetime: number; // seconds
}

/** postgrey's figures: 5 minutes' delay, triples kept 35 days. */
export const DEFAULT_GREYLIST: GreylistConfig = { delay: 300, lifetime: 35 * 86400 };
const MAX_SECONDS = 400 * 86400;

const KEYS = new Map<string, keyof GreylistConfig>([["delay", "delay"], ["lifetime", "lifetime"]]);

export function parseGreylist(lines: readonly string[]): { config: GreylistConfig; warnings: string[] } {
  const config: { -readonly [K in keyof GreylistConfig]: number } = { ...DEFAULT_GREYLIST };
  const warnings: string[] = [];
  lines.forEach((line, i) => {
    const m = /^\s*([^:\s]+)\s*:\s*(\S*)\s*$/.exec(line);
    const key = m ? KEYS.get((m[1] ?? "").toLowerCase()) : undefined;
    const bad = (why: string) => warnings.push(`control/greylist line ${i + 1}: ${why}; line ignored`);
    if (!m || key === undefined) return bad(`"${line.slice(0, 60).replace(/[^\x20-\x7e]/g, "?")}" is not delay:SECONDS or lifetime:SECONDS`);
    if (!/^\d{1,8}$/.test(m[2] ?? "") || Number(m[2]) > MAX_SECONDS) return bad(`${key} must be a number of seconds from 0 to ${MAX_SECONDS}`);
    config[key] = Number(m[2]);
  });
  if (config.lifetime < config.delay) {
    warnings.push(`control/greylist: lifetime ${config.lifetime} is shorter than delay ${config.delay}; lifetime ${config.delay} used`);
    config.lifetime = config.delay;
  }
  return { config, warnings };
}

/** The client's network as greylisting counts it: "192.0.2.0/24", "2001:db8:1:2::/64". */
export function greyNet(ip: string): string {
  const b = parseIP(ip);
  if (!b) return ip;
  const keep = b.length === 4 ? 3 : 8;
  const net = new Uint8Array(b.length);
  net.set(b.subarray(0, keep));
  return `${formatIP(net)}/${keep * 8}`;
}

/** The triple as one string (addresses lowercased): what the store hashes into a file name. */
export function tripleKey(ip: string, sender: string, recipient: string): string {
  return `${greyNet(ip)}\0${sender.toLowerCase()}\0${recipient.toLowerCase()}`;
}

export interface GreyRecord {
  readonly first: number; // ms: the first attempt
  readonly last: number; // ms: the last attempt
  readonly passed: boolean;
}

/** What to answer for a triple whose record is `rec` (null: none), and the record to keep. */
export function greyDecide(rec: GreyRecord | null, now: number, cfg: GreylistConfig): { pass: boolean; wait: number; record: GreyRecord } {
  if (rec === null || now - rec.last > cfg.lifetime * 1000 || rec.first > now) return cfg.delay === 0 ? { pass: true, wait: 0, record: { first: now, last: now, passed: true } } : { pass: false, wait: cfg.delay, record: { first: now, last: now, passed: false } };
  if (rec.passed || now - rec.first >= cfg.delay * 1000) return { pass: true, wait: 0, record: { first: rec.first, last: now, passed: true } };
  return { pass: false, wait: Math.ceil((rec.first + cfg.delay * 1000 - now) / 1000), record: { first: rec.first, last: now, passed: false } };
}

/** A record on disk: "first last passed" (ms, ms, 0 or 1), one line. */
export function encodeGreyRecord(r: GreyRecord): string {
  return `${r.first} ${r.last} ${r.passed ? 1 : 0}\n`;
}

/** null for anything that is not a record (a torn or foreign file counts as unknown). */
export function decodeGreyRecord(text: string): GreyRecord | null {
  const m = /^(\d{1,15}) (\d{1,15}) ([01])\n$/.exec(text);
  if (!m) return null;
  const first = Number(m[1]);
  const last = Number(m[2]);
  return last >= first ? { first, last, passed: m[3] === "1" } : null;
}

export function greyReply(wait: number): string {
  return `451 4.7.1 greylisted: this is the first attempt from your network for this sender and recipient; try again in ${Math.max(1, wait)} seconds`;
}
