import { formatIP, parseIP } from "../base/ip-addr.ts";

/**
 * DNS block and allow lists (qm-smtpd(8), "DNS lists"; control/dnsbl and
 * control/dnswl, one `zone[:weight[:text]]` a line): the query name of a
 * client address in a zone (RFC 5782 §2.1, §2.4), what the zone's answer
 * means, and the sum of the weights that decides. Pure: the lookups are in
 * core/io/smtpd/dnsbl.ts.
 */
export interface DnsList {
  readonly zone: string;
  readonly weight: number;
  readonly text: string | null; // the reply text; null: the zone's TXT record, else "listed by ZONE"
}

/** Zones a file may name; later lines are ignored with a warning (each costs a lookup per connection). */
export const MAX_LISTS = 16;
/** The weights of the zones that list a client must add up to this (postscreen's threshold of 1). */
export const THRESHOLD = 1;
const MAX_TEXT = 200;
const MAX_WEIGHT = 100;

/** 180 bytes at most: with an IPv6 address's 64 bytes of nibbles in front, the name stays under DNS's 253. */
const ZONE = /^(?=.{1,180}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)+$/;

/** The lines of control/dnsbl or control/dnswl; a malformed line is skipped with a warning naming it. */
export function parseDnsLists(lines: readonly string[], file: string): { lists: DnsList[]; warnings: string[] } {
  const lists: DnsList[] = [];
  const warnings: string[] = [];
  lines.forEach((line, i) => {
    const bad = (why: string) => warnings.push(`control/${file} line ${i + 1}: ${why}; line ignored`);
    const [zoneText = "", weightText = "", ...rest] = line.split(":");
    const zone = zoneText.trim().toLowerCase().replace(/\.$/, "");
    if (!ZONE.test(zone)) return bad(`"${printable(zoneText.slice(0, 60))}" is not a DNS zone`);
    const w = weightText.trim();
    if (w !== "" && (!/^\d{1,3}(\.\d{1,3})?$/.test(w) || Number(w) > MAX_WEIGHT)) return bad(`weight "${printable(w.slice(0, 20))}" is not a number from 0 to ${MAX_WEIGHT}`);
    if (lists.length >= MAX_LISTS) return bad(`more than ${MAX_LISTS} zones`);
    const text = rest.join(":").trim();
    lists.push({ zone, weight: w === "" ? 1 : Number(w), text: text === "" ? null : replyText(text) });
  });
  return { lists, warnings };
}

/** Printable ASCII only, at most MAX_TEXT bytes: it goes into an SMTP reply line. */
export function replyText(s: string): string {
  return printable(s).slice(0, MAX_TEXT);
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}

/** "192.0.2.7" in zone z → "7.2.0.192.z"; IPv6 by nibbles; null for what is not an address. */
export function queryName(ip: string, zone: string): string | null {
  const b = parseIP(ip);
  if (!b) return null;
  if (b.length === 4) return `${[...b].reverse().join(".")}.${zone}`;
  const nibbles: string[] = [];
  for (const byte of b) nibbles.push((byte >> 4).toString(16), (byte & 15).toString(16));
  return `${nibbles.reverse().join(".")}.${zone}`;
}

/** What one zone said of one client. */
export type ListAnswer =
  | { readonly kind: "listed"; readonly codes: readonly string[] }
  | { readonly kind: "not-listed" }
  | { readonly kind: "unusable"; readonly why: string }; // timeout, SERVFAIL, garbage: taken as not listed

/**
 * A records of a zone's answer: 127.0.0.0/8 means listed (RFC 5782 §2.3);
 * 127.255.255.0/24 is how big lists say "this query was refused" (a
 * public resolver, over quota), and anything outside 127/8 is garbage:
 * neither lists anyone.
 */
export function readAnswer(records: readonly string[]): ListAnswer {
  if (records.length === 0) return { kind: "not-listed" };
  const codes = records.filter((r) => /^127\.\d+\.\d+\.\d+$/.test(r) && !r.startsWith("127.255.255."));
  if (codes.length > 0) return { kind: "listed", codes };
  const sample = records.slice(0, 3).map((r) => printable(r.slice(0, 40))).join(" ");
  return { kind: "unusable", why: records.every((r) => r.startsWith("127.255.255.")) ? `the zone refused the query (${sample})` : `answer outside 127.0.0.0/8 (${sample})` };
}

/** The zones that list a client, heaviest first, and whether their weights reach THRESHOLD. */
export function judge(lists: readonly DnsList[], answers: ReadonlyMap<string, ListAnswer>): { listed: DnsList[]; over: boolean; score: number } {
  const listed = lists.filter((l) => answers.get(l.zone)?.kind === "listed").sort((a, b) => b.weight - a.weight);
  const score = listed.reduce((n, l) => n + l.weight, 0);
  return { listed, over: listed.length > 0 && score >= THRESHOLD, score };
}

/** The 554 for a client the block lists refuse: the heaviest zone's text (or its TXT record). */
export function refusal(list: DnsList, txt: string | null, ip: string): string {
  const text = list.text ?? (txt !== null && txt.trim() !== "" ? replyText(txt.trim()) : `your address ${ip} is listed by ${list.zone}`);
  return `554 5.7.1 ${text}`;
}

/** The normal form of an address for the cache and the lists' keys. */
export function normalAddress(ip: string): string | null {
  const b = parseIP(ip);
  return b ? formatIP(b) : null;
}
