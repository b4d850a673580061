import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RewriteRules } from "../../lib/send/rewrite.ts";
import { parseSenderLogins, type SenderLogins } from "../../lib/smtpd/policy.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { AUTH_DELAY_MAX_MS, AUTH_FAILURES_PER_HOUR } from "../../lib/smtpd/auth-limits.ts";
import { readControlLine, readControlList, readControlNumber } from "../base/control.ts";
import { errText, isMissing } from "../base/errno.ts";
import { readRules } from "../send/controls.ts";
import { virtualAuthOn } from "./virtual-auth.ts";
import { DEFENCE_FILES, readDefences, type Defences } from "./defence-controls.ts";
import { parseFilterLines, type FilterSpec } from "../../lib/smtpd/filter-line.ts";

/** Everything `qm smtpd` reads from control/ (docs/qmail.md §6.1, §10; man qm-smtpd). */
export interface SmtpControls {
  readonly me: string;
  readonly greeting: string;
  readonly localiphost: string;
  readonly timeout: number; // seconds
  readonly timeoutcommand: number; // seconds a command line may take once its first byte is in (0: no limit)
  readonly timeoutbusy: number; // seconds: at the session cap, a session stalled this long is closed for a new one (0: never)
  readonly mindatarate: { readonly rate: number; readonly window: number }; // bytes a second after a grace window (rate 0: no limit)
  readonly databytes: number;
  readonly queuefree: number; // bytes the queue's disk must have free for MAIL to be taken
  readonly authdelay: number; // ms: the longest wait before answering a failed AUTH (0: none)
  readonly authfailures: number; // failed AUTHs a client address may have in an hour (0: no limit)
  readonly maxRcpt: number;
  readonly rcpthosts: ReadonlySet<string> | null;
  readonly mrh: Uint8Array | null;
  readonly badmailfrom: ReadonlySet<string>;
  readonly rcptCheck: boolean;
  readonly checkpassword: string | null;
  readonly dovecotauth: string | null; // the path of Dovecot's auth socket
  readonly virtualauth: boolean; // control/virtualusers holds password hashes: an AUTH back end
  readonly senderlogins: SenderLogins | null;
  readonly rules: RewriteRules;
  readonly defences: Defences; // dnsbl, dnswl, ratelimits, greylist, greetdelay (defence-controls.ts)
  readonly policyservers: readonly FilterSpec[]; // asked at RCPT (and END-OF-MESSAGE), core/io/smtpd/policyd.ts
  readonly milters: readonly FilterSpec[]; // core/io/smtpd/milters.ts
}

/** Every control file a session reads (servercert.pem: core/io/smtpd/cert.ts): what the listener's reload line may name. */
export const SMTPD_FILES = ["me", "smtpgreeting", "localiphost", "checkpassword", "dovecotauth", "virtualusers", "senderlogins", "authfailures", "authdelay", "timeoutsmtpd", "timeoutcommand", "timeoutbusy", "mindatarate", "databytes", "maxrcpt", "rcptcheck", "queuefree", "rcpthosts", "morercpthosts.cdb", "badmailfrom", "authpolicy", "resolvers", "locals", "virtualdomains", "percenthack", "envnoathost", "srs", "srsdomain", "servercert.pem", "policyservers", "milters", ...DEFENCE_FILES] as const;

/** RFC 5321 §4.5.3.1.8 asks for at least 100; Postfix and OpenSMTPD ship 1000. */
const DEFAULT_MAXRCPT = 1000;
const MAX_DATABYTES = 0xffffffff;
/** Postfix's smtpd_timeout: a command line may take 5 minutes from its first byte. */
export const TIMEOUT_COMMAND = 300;
/** Under a full session table, a session that has kept us waiting this long gives its place up. */
export const TIMEOUT_BUSY = 5;
/** Postfix's smtpd_min_data_rate (500 bytes a second), after a minute's grace. */
export const MIN_DATA_RATE = { rate: 500, window: 60 } as const;

/** control/mindatarate: `RATE[:WINDOW]`, bytes a second and seconds; absent: MIN_DATA_RATE. */
export function parseDataRate(line: string | null): Result<{ rate: number; window: number }> {
  if (line === null) return ok(MIN_DATA_RATE);
  const m = /^(\d{1,9})(?::(\d{1,6}))?$/.exec(line.trim());
  if (!m) return temp(`control/mindatarate: ${JSON.stringify(line.slice(0, 60))} is not RATE or RATE:WINDOW (bytes a second, seconds)`, "4.3.0");
  return ok({ rate: Number(m[1]), window: m[2] === undefined ? MIN_DATA_RATE.window : Number(m[2]) });
}
/** control/queuefree's default: room for a few messages of the largest size, or 100 MB without a databytes. */
const QUEUEFREE_TIMES = 4;
const QUEUEFREE_DEFAULT = 100_000_000;

/** Reads the controls; any failure but a missing file is temporary (the session answers 421). */
export async function readSmtpControls(home: string): Promise<Result<SmtpControls>> {
  const me = await readControlLine(home, "me", null);
  if (me.kind !== "ok") return me;
  const greeting = await readControlLine(home, "smtpgreeting", me.value);
  if (greeting.kind !== "ok") return greeting;
  if (greeting.value === null) return temp("control/smtpgreeting and control/me are both missing");
  const host = me.value ?? greeting.value;
  const lines = await Promise.all([readControlLine(home, "localiphost", host), readControlLine(home, "checkpassword", null), readControlLine(home, "dovecotauth", null)]);
  const nums = await Promise.all([readControlNumber(home, "timeoutsmtpd", 1200), readControlNumber(home, "databytes", 0), readControlNumber(home, "maxrcpt", DEFAULT_MAXRCPT), readControlNumber(home, "rcptcheck", 1), readControlNumber(home, "queuefree", -1), readControlNumber(home, "authdelay", AUTH_DELAY_MAX_MS), readControlNumber(home, "authfailures", AUTH_FAILURES_PER_HOUR), readControlNumber(home, "timeoutcommand", TIMEOUT_COMMAND), readControlNumber(home, "timeoutbusy", TIMEOUT_BUSY)]);
  const rateLine = await readControlLine(home, "mindatarate", null);
  if (rateLine.kind !== "ok") return rateLine;
  const rate = parseDataRate(rateLine.value);
  if (rate.kind !== "ok") return rate;
  const lists = await Promise.all([readControlList(home, "rcpthosts"), readControlList(home, "badmailfrom"), readControlList(home, "senderlogins"), readControlList(home, "policyservers"), readControlList(home, "milters")]);
  const files = [await optionalFile(join(home, "control", "morercpthosts.cdb"))];
  const rules = await readRules(home, host);
  const defences = await readDefences(home);
  for (const r of [...lines, ...nums, ...lists, ...files, rules, defences]) if (r.kind !== "ok") return r;
  const v = <T>(r: Result<T>): T => (r as { value: T }).value;
  const [localiphost, checkpassword, dovecotauth] = lines.map(v);
  if (dovecotauth && !dovecotauth.startsWith("/")) return temp(`control/dovecotauth must name Dovecot's auth socket by its full path, not ${JSON.stringify(dovecotauth.slice(0, 100))}`, "4.3.0");
  const [timeout, databytes, maxRcpt, rcptCheck, queuefree, authdelay, authfailures, timeoutcommand, timeoutbusy] = nums.map(v);
  const [rcpthosts, badmailfrom, senderlogins, policyLines, milterLines] = lists.map(v);
  const policyservers = parseFilterLines("policyservers", policyLines ?? [], true);
  if (policyservers.kind !== "ok") return policyservers;
  const milters = parseFilterLines("milters", milterLines ?? [], false);
  if (milters.kind !== "ok") return milters;
  const [mrh] = files.map(v);
  const lower = (xs: string[]) => new Set(xs.map((x) => x.toLowerCase()));
  return ok({
    me: host,
    greeting: greeting.value,
    localiphost: localiphost ?? host,
    timeout: Math.max(1, timeout!),
    timeoutcommand: timeoutcommand!,
    timeoutbusy: timeoutbusy!,
    mindatarate: rate.value,
    databytes: Math.min(databytes!, MAX_DATABYTES),
    queuefree: queuefree! >= 0 ? queuefree! : databytes! > 0 ? QUEUEFREE_TIMES * Math.min(databytes!, MAX_DATABYTES) : QUEUEFREE_DEFAULT,
    maxRcpt: Math.max(1, maxRcpt!),
    rcpthosts: rcpthosts ? lower(rcpthosts) : null,
    mrh: rcpthosts ? (mrh ?? null) : null, // qmail opens the cdb only when rcpthosts exists
    badmailfrom: lower(badmailfrom ?? []),
    rcptCheck: rcptCheck !== 0,
    checkpassword: checkpassword ?? null,
    dovecotauth: dovecotauth ?? null,
    virtualauth: virtualAuthOn(home),
    authdelay: Math.max(0, authdelay!),
    authfailures: Math.max(0, authfailures!),
    senderlogins: senderlogins ? parseSenderLogins(senderlogins) : null,
    rules: v(rules),
    defences: v(defences),
    policyservers: policyservers.value,
    milters: milters.value,
  });
}

/** control/servercert.pem (key and certificate chain) for one inetd session; null: no STARTTLS. The listener watches it (cert.ts). */
export function readServerCert(home: string): Promise<Result<Uint8Array | null>> {
  return optionalFile(join(home, "control", "servercert.pem"));
}

async function optionalFile(path: string): Promise<Result<Uint8Array | null>> {
  try {
    return ok(new Uint8Array(await readFile(path)));
  } catch (err) {
    if (isMissing(err)) return ok(null);
    return temp(`Unable to read ${path}: ${errText(err)}`, "4.3.0");
  }
}

/** The controls, read again at most once a second (a listener serves many sessions); `drop` forgets them (SIGHUP). */
export function cachedControls(home: string, ttlMs = 1000, now: () => number = Date.now): { get(): Promise<Result<SmtpControls>>; drop(): void } {
  let at = -Infinity;
  let last: Promise<Result<SmtpControls>> | null = null;
  return {
    get: () => {
      if (last === null || now() - at >= ttlMs) {
        at = now();
        last = readSmtpControls(home);
      }
      return last;
    },
    drop: () => void (last = null),
  };
}
