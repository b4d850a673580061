/**
 * `qm stats`' running count over the events of a log (line.ts), in the order
 * written. Every line updates what is open (messages queued, deliveries under
 * way, SMTP sessions) so that a delay can be measured across the window's
 * edge; only events whose time is inside [since, until) are counted. A line
 * without a stamp takes the time of the last stamped line before it.
 * Every table is bounded (LIMITS): a hostile log cannot make it grow without
 * end; the oldest open entries go first, extra keys are counted as "(other)".
 */
import type { Event, Outcome } from "./line.ts";

export const LIMITS = {
  open: 100_000, // messages, deliveries and sessions remembered while open
  keys: 10_000, // domains, clients, users, reject reasons
  reasons: 20, // report texts kept per domain
} as const;
export const OTHER = "(other)";

export type Channel = "local" | "remote";
export interface DomainCount { success: number; failure: number; deferral: number; mangled: number; readonly reasons: Map<string, number> }

export interface Tally {
  readonly since: number | null;
  readonly until: number | null;
  last: number | null; // the last stamp seen
  first: number | null; // first and last stamp counted
  end: number | null;
  lines: number;
  events: number;
  counted: number;
  readonly msgs: Map<number, { readonly ms: number | null; readonly rcpts: Set<string> }>; // queued, not yet ended
  readonly deliveries: Map<number, { readonly id: number; readonly channel: Channel; readonly domain: string }>;
  readonly sessions: Map<string, string>; // smtpd session -> AUTH user
  readonly bounceQps: Set<number>;
  readonly smtpIds: Map<number, true>; // queued by a server: not a local user's
  readonly smtpDrops: Map<string, true>; // maildrop/ names a server left
  readonly in: { messages: number; bytes: number; bounces: number; recipients: number };
  out: number;
  readonly outcomes: Record<Channel, Record<Outcome, number>>;
  readonly delays: Record<Channel, number[]>; // seconds, final outcomes only
  readonly domains: Map<string, DomainCount>;
  readonly clients: Map<string, number>;
  readonly users: Map<string, number>; // uid -> messages
  readonly authUsers: Map<string, number>;
  readonly rejects: Map<string, number>;
  readonly smtp: { sessions: number; tls: number; authFailed: number; accepted: number };
  readonly minutes: Map<number, { in: number; out: number; queue: number }>;
  queue: number; // messages queued now, as far as the log tells
}

export function newTally(opts: { since?: number | null; until?: number | null } = {}): Tally {
  const outcomes = () => ({ success: 0, failure: 0, deferral: 0, mangled: 0 });
  return {
    since: opts.since ?? null, until: opts.until ?? null, last: null, first: null, end: null, lines: 0, events: 0, counted: 0,
    msgs: new Map(), deliveries: new Map(), sessions: new Map(), bounceQps: new Set(), smtpIds: new Map(), smtpDrops: new Map(),
    in: { messages: 0, bytes: 0, bounces: 0, recipients: 0 }, out: 0,
    outcomes: { local: outcomes(), remote: outcomes() }, delays: { local: [], remote: [] },
    domains: new Map(), clients: new Map(), users: new Map(), authUsers: new Map(), rejects: new Map(),
    smtp: { sessions: 0, tls: 0, authFailed: 0, accepted: 0 }, minutes: new Map(), queue: 0,
  };
}

/** Adds `n` to `key` in a bounded count table. */
export function bump(map: Map<string, number>, key: string, n = 1, limit: number = LIMITS.keys): void {
  const k = map.has(key) || map.size < limit ? key : OTHER;
  map.set(k, (map.get(k) ?? 0) + n);
}

/** Sets a key in a bounded map of open things: past the limit the oldest goes. */
function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  if (map.size >= LIMITS.open) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

/** The recipient's domain, lower case; the address itself when it has no "@". */
export function domainOf(addr: string): string {
  const at = addr.lastIndexOf("@");
  return (at < 0 ? addr : addr.slice(at + 1)).toLowerCase() || "(none)";
}

/** A report text grouped with its kind: addresses of hosts taken out, qm-log(5)'s "_" and "/" made spaces again. */
export function reasonOf(text: string): string {
  return text.replace(/\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]/gi, "IP").replace(/[_/]+/g, " ").trim().slice(0, 120);
}

function minute(t: Tally, ms: number) {
  const m = Math.floor(ms / 60_000);
  let row = t.minutes.get(m);
  if (!row) {
    if (t.minutes.size >= LIMITS.open) return null; // 69 days of minutes; report.ts widens the steps
    row = { in: 0, out: 0, queue: t.queue };
    t.minutes.set(m, row);
  }
  return row;
}

/** One line's event at time `ms` (null: no stamp on the line). */
export function addEvent(t: Tally, e: Event | null, ms: number | null): void {
  t.lines++;
  if (ms !== null) t.last = ms;
  if (e === null) return;
  t.events++;
  const now = t.last;
  const inside = now === null ? t.since === null && t.until === null : (t.since === null || now >= t.since) && (t.until === null || now < t.until);
  if (inside) {
    t.counted++;
    if (now !== null) {
      t.first ??= now;
      t.end = now;
    }
  }
  apply(t, e, now, inside);
}

function apply(t: Tally, e: Event, now: number | null, inside: boolean): void {
  switch (e.t) {
    case "new": {
      remember(t.msgs, e.id, { ms: now, rcpts: new Set() });
      t.queue++;
      if (inside) {
        t.in.messages++;
        if (now !== null) { const row = minute(t, now); if (row) { row.in++; row.queue = Math.max(row.queue, t.queue); } }
      }
      return;
    }
    case "info": {
      if (!inside) return;
      t.in.bytes += e.bytes;
      if (t.bounceQps.has(e.qp) && (e.sender === "" || e.sender === "#@[]")) t.in.bounces++;
      else if (!t.smtpIds.delete(e.id)) bump(t.users, String(e.uid));
      return;
    }
    case "start": {
      const domain = domainOf(e.rcpt);
      remember(t.deliveries, e.d, { id: e.id, channel: e.channel, domain });
      const m = t.msgs.get(e.id);
      const key = `${e.channel} ${e.rcpt.slice(0, e.rcpt.lastIndexOf("@") + 1)}${domain}`; // the domain's case does not make another recipient
      if (m && !m.rcpts.has(key) && m.rcpts.size < LIMITS.keys) {
        m.rcpts.add(key); // a recipient is counted once however often it is tried
        if (inside) t.in.recipients++;
      }
      return;
    }
    case "result": return result(t, e, now, inside);
    case "bounce": t.bounceQps.add(e.qp); return;
    case "end": {
      if (t.msgs.delete(e.id)) t.queue = Math.max(0, t.queue - 1);
      if (inside) {
        t.out++;
        if (now !== null) { const row = minute(t, now); if (row) { row.out++; row.queue = Math.max(row.queue, t.queue); } }
      }
      return;
    }
    case "maildrop": if (t.smtpDrops.delete(e.name)) remember(t.smtpIds, e.id, true); return;
    case "restart": t.deliveries.clear(); return;
    case "connect": remember(t.sessions, e.sid, ""); if (inside) t.smtp.sessions++; return;
    case "starttls": if (inside) t.smtp.tls++; return;
    case "auth":
      if (e.ok) remember(t.sessions, e.sid, e.user);
      else if (inside) t.smtp.authFailed++;
      return;
    case "refused": if (inside) bump(t.rejects, `${e.verb} ${e.reply.slice(0, 100)}`); return;
    case "accepted": {
      if (e.where.startsWith("msg ")) remember(t.smtpIds, Number(e.where.slice(4)), true);
      else if (e.where.startsWith("maildrop/")) remember(t.smtpDrops, e.where.slice(9), true);
      if (!inside) return;
      t.smtp.accepted++;
      bump(t.clients, e.ip);
      const user = e.user ?? t.sessions.get(e.sid); // older lines do not name the user: the session's auth ok does
      if (user) bump(t.authUsers, user);
    }
  }
}

function result(t: Tally, e: Extract<Event, { t: "result" }>, now: number | null, inside: boolean): void {
  const d = t.deliveries.get(e.d);
  if (!d) return; // its start was before the log begins
  t.deliveries.delete(e.d);
  if (!inside) return;
  t.outcomes[d.channel][e.outcome]++;
  const key = t.domains.has(d.domain) || t.domains.size < LIMITS.keys ? d.domain : OTHER;
  let dom = t.domains.get(key);
  if (!dom) t.domains.set(key, (dom = { success: 0, failure: 0, deferral: 0, mangled: 0, reasons: new Map() }));
  dom[e.outcome]++;
  if (e.outcome !== "success") bump(dom.reasons, reasonOf(e.text), 1, LIMITS.reasons);
  if (e.outcome === "success" || e.outcome === "failure") {
    const born = t.msgs.get(d.id)?.ms;
    if (born != null && now !== null) t.delays[d.channel].push(Math.max(0, now - born) / 1000);
  }
}
