/**
 * One line of a qm log (qm-log(5)) as an event for `qm stats`: the time stamp
 * `qm start` put at its start (ISO 8601 UTC or TAI64N), or a syslog prefix
 * (RFC 3164 `Dec  6 14:50:33 host qm[812]: `, or RFC 3339
 * `2026-12-06T14:50:33.123456+00:00 host qm[812]: `), then one of the queue
 * manager's or the servers' lines. A line that is none of these is null:
 * log files hold other programs' lines and garbage, and none of it throws.
 */
export type Outcome = "success" | "failure" | "deferral" | "mangled";
export type Event =
  | { readonly t: "new"; readonly id: number }
  | { readonly t: "info"; readonly id: number; readonly bytes: number; readonly sender: string; readonly qp: number; readonly uid: number }
  | { readonly t: "start"; readonly d: number; readonly id: number; readonly channel: "local" | "remote"; readonly rcpt: string }
  | { readonly t: "result"; readonly d: number; readonly outcome: Outcome; readonly text: string }
  | { readonly t: "bounce"; readonly id: number; readonly qp: number }
  | { readonly t: "end"; readonly id: number }
  | { readonly t: "maildrop"; readonly name: string; readonly uid: number; readonly id: number }
  | { readonly t: "restart" } // qm send (re)started or stopped: delivery numbers start again from 1
  | { readonly t: "status"; readonly local: number; readonly localMax: number; readonly remote: number; readonly remoteMax: number }
  | { readonly t: "connect"; readonly sid: string; readonly ip: string }
  | { readonly t: "starttls"; readonly sid: string }
  | { readonly t: "auth"; readonly sid: string; readonly ok: boolean; readonly user: string }
  | { readonly t: "refused"; readonly sid: string; readonly ip: string; readonly verb: string; readonly reply: string }
  | { readonly t: "accepted"; readonly sid: string; readonly ip: string; readonly where: string; readonly rcpts: number; readonly user: string | null };

export interface Line {
  /** ms since 1970, or null for a line without a time stamp */
  readonly ms: number | null;
  readonly event: Event | null;
}

/** Longest line looked at; a longer one is cut there (a report text can be long, nothing we count is). */
export const MAX_LINE = 4096;

const MONTHS = new Map(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map((m, i) => [m, i]));
const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d) /;
const TAI = /^@([0-9a-f]{16})([0-9a-f]{8}) /;
const BSD = /^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) /;
const TAG = /^\S+ qm(?:\[\d+\])?: /; // host, then qm's tag

/**
 * Splits off the stamp. `year` dates RFC 3164 syslog lines, which carry none
 * (the caller passes the current year). `cache` keeps the last second parsed:
 * a log has many lines a second, and Date.parse is the slowest step here.
 */
export function parseLine(raw: string, year: number, cache: { key: string; ms: number } = { key: "", ms: 0 }): Line {
  const line = raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw;
  const c = line.charCodeAt(0);
  let ms: number | null = null;
  let rest = line;
  let syslog = false;
  if (c >= 48 && c <= 57) {
    const m = ISO.exec(line);
    if (!m) return { ms: null, event: null };
    const key = m[1]! + m[3]!;
    if (key !== cache.key) {
      const parsed = Date.parse(`${m[1]}${m[3]}`);
      if (Number.isNaN(parsed)) return { ms: null, event: null };
      cache.key = key;
      cache.ms = parsed;
    }
    ms = cache.ms + (m[2] ? Math.floor(Number(`0${m[2]}`) * 1000) : 0);
    rest = line.slice(m[0].length);
    syslog = TAG.test(rest); // rsyslog's RFC 3339 form: a host and a tag follow
  } else if (c === 64) {
    const m = TAI.exec(line);
    if (!m) return { ms: null, event: null };
    const high = parseInt(m[1]!.slice(0, 8), 16) - 0x40000000; // 2^62 would not fit a double exactly
    const sec = high * 2 ** 32 + parseInt(m[1]!.slice(8), 16) - 10;
    ms = sec * 1000 + Math.floor(parseInt(m[2]!, 16) / 1e6);
    rest = line.slice(m[0].length);
  } else if (c >= 65 && c <= 90) {
    const m = BSD.exec(line);
    const month = m ? MONTHS.get(m[1]!) : undefined;
    if (!m || month === undefined) return { ms: null, event: parseEvent(line) };
    ms = Date.UTC(year, month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
    rest = line.slice(m[0].length);
    syslog = true;
  }
  if (syslog) {
    const t = TAG.exec(rest);
    if (!t) return { ms, event: null }; // another program's line
    rest = rest.slice(t[0].length);
  }
  if (ms !== null && !Number.isFinite(ms)) return { ms: null, event: null };
  return { ms, event: parseEvent(rest) };
}

const num = (s: string | undefined): number => (s === undefined ? NaN : Number(s));

const SEND: readonly [RegExp, (m: RegExpExecArray) => Event | null][] = [
  [/^new msg (\d+)$/, (m) => ({ t: "new", id: num(m[1]) })],
  [/^info msg (\d+): bytes (\d+) from <([^ ]*)> qp (\d+) uid (\d+)$/, (m) => ({ t: "info", id: num(m[1]), bytes: num(m[2]), sender: m[3]!, qp: num(m[4]), uid: num(m[5]) })],
  [/^starting delivery (\d+): msg (\d+) to (local|remote) (\S*)$/, (m) => ({ t: "start", d: num(m[1]), id: num(m[2]), channel: m[3] as "local" | "remote", rcpt: m[4]! })],
  [/^delivery (\d+): (success|failure|deferral): (.*)$/, (m) => ({ t: "result", d: num(m[1]), outcome: m[2] as Outcome, text: m[3]! })],
  [/^delivery (\d+): report mangled, will defer$/, (m) => ({ t: "result", d: num(m[1]), outcome: "mangled", text: "report mangled" })],
  [/^bounce msg (\d+) qp (\d+)$/, (m) => ({ t: "bounce", id: num(m[1]), qp: num(m[2]) })],
  [/^end msg (\d+)$/, (m) => ({ t: "end", id: num(m[1]) })],
  [/^info maildrop\/(\S+) uid (\d+) queued as (\d+)$/, (m) => ({ t: "maildrop", name: m[1]!, uid: num(m[2]), id: num(m[3]) })],
  [/^(?:start: send started, pid \d+|status: exiting)$/, () => ({ t: "restart" })],
  [/^status: local (\d+)\/(\d+) remote (\d+)\/(\d+)(?: exitasap)?$/, (m) => ({ t: "status", local: num(m[1]), localMax: num(m[2]), remote: num(m[3]), remoteMax: num(m[4]) })],
];

const SESSION = /^(?:smtpd|qmqpd): (\d+\.\d+) (connect|starttls|tls|auth|refused|accepted) (\S+) ?(.*)$/;

/** The event of a line without its stamp; null for anything else. */
export function parseEvent(s: string): Event | null {
  const c = s.charCodeAt(0);
  if (c === 115 || c === 113) { // "smtpd:", "qmqpd:", "starting", "status:"
    const m = SESSION.exec(s);
    if (m) return sessionEvent(m[1]!, m[2]!, m[3]!, m[4]!);
  }
  for (const [re, make] of SEND) {
    const m = re.exec(s);
    if (m) {
      const e = make(m);
      return e && Object.values(e).every((v) => typeof v !== "number" || Number.isSafeInteger(v)) ? e : null;
    }
  }
  return null;
}

function sessionEvent(sid: string, word: string, ip: string, rest: string): Event | null {
  if (word === "connect") return { t: "connect", sid, ip };
  if (word === "starttls" || word === "tls") return { t: "starttls", sid }; // tls: an smtps listener's handshake
  if (word === "auth") {
    const m = /^(\S+) user (\S*)(?: mech \S+ via \S+)?$/.exec(rest); // "auth ok IP user NAME [mech M via B]": ip is the verdict here
    if (!m || (ip !== "ok" && ip !== "failed" && ip !== "tempfail")) return null;
    return { t: "auth", sid, ok: ip === "ok", user: m[2]! };
  }
  if (word === "refused") {
    const colon = rest.indexOf(": ");
    if (colon < 0) return null;
    const verb = rest.startsWith("(line too long)") ? "(line too long)" : /^[^ :]+/.exec(rest)?.[0] ?? "";
    return { t: "refused", sid, ip, verb, reply: rest.slice(colon + 2) };
  }
  const m = /^(msg \d+|maildrop\/\S+|qp \d+) from <[^ ]*> rcpts (\d+)(?: user (\S+))?$/.exec(rest);
  if (!m) return null;
  return { t: "accepted", sid, ip, where: m[1]!, rcpts: num(m[2]), user: m[3] ?? null };
}
