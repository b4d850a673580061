/**
 * The sendmail wrapper's command line (docs/qmail.md §8): sendmail's own flags, read
 * the getopt way (bundled letters, an option's value in the rest of its word or
 * in the next word, the first non-option or `--` ends the options), plus the
 * name the program was called by: sendmail, mailq or newaliases.
 */
import { scanOptions } from "../base/getopt.ts";
import { ok, perm, type Result } from "../base/result.ts";
import { MAX_ENVID, parseNotify } from "../queue/dsn.ts";
import type { SendmailDsn } from "./args.ts";

/** What one sendmail command line asks for. */
export type SendmailPlan =
  | {
      readonly kind: "inject";
      /** "H": recipients from the header and the arguments (-t); "a": arguments only */
      readonly mode: "H" | "a";
      /** -f / -r: the envelope sender, null when absent */
      readonly sender: string | null;
      /** -F: the sender's full name, null when absent */
      readonly fullName: string | null;
      readonly recipients: readonly string[];
      /** -N, -R, -V: RFC 3461 parameters for every recipient; absent when none was given */
      readonly dsn?: SendmailDsn;
    }
  | { readonly kind: "smtp" } // -bs
  | { readonly kind: "list" } // -bp, mailq
  | { readonly kind: "run" } // -q
  | { readonly kind: "newaliases" }; // -bi, newaliases

export type Personality = "sendmail" | "mailq" | "newaliases";

export const USAGE = "usage: sendmail [ -t ] [ -f sender ] [ -F name ] [ -N dsn ] [ -R full|hdrs ] [ -V envid ] [ -bp | -bs | -bi | -q ] [ -- ] [ recip ... ]";

const PERSONALITIES = new Map<string, Personality>([
  ["sendmail", "sendmail"],
  ["mailq", "mailq"],
  ["newaliases", "newaliases"],
]);

/** The wrapper a program name stands for (`/usr/sbin/sendmail` → sendmail), or null for plain qm. */
export function personality(programPath: string): Personality | null {
  const base = programPath.slice(programPath.lastIndexOf("/") + 1);
  return PERSONALITIES.get(base) ?? null;
}

type Mode = "m" | "s" | "p" | "i" | "q";
interface State {
  mode: Mode;
  header: boolean;
  sender: string | null;
  fullName: string | null;
  dsn: { -readonly [K in keyof SendmailDsn]: SendmailDsn[K] } | null;
}

/** Letters sendmail users pass out of habit: accepted, no effect (qmail-inject never stops at a dot). */
const IGNORED = new Set(["v", "i", "m", "x"]);
/** Letters whose value (rest of the word, else the next word) is read and ignored. */
const IGNORED_WITH_VALUE = new Set(["o", "O", "B", "e", "p"]);
/** -E and -J: the rest of the word is skipped, no next word. */
const SKIP_REST = new Set(["E", "J"]);

const BMODES = new Map<string, Mode>([
  ["m", "m"],
  ["s", "s"],
  ["p", "p"],
  ["i", "i"],
]);

const VALUE_SETTERS = new Map<string, (s: State, v: string) => Result<void>>([
  ["f", (s, v) => setSender(s, v)],
  ["r", (s, v) => setSender(s, v)],
  ["F", (s, v) => ((s.fullName = v), ok(undefined))],
  ["b", (s, v) => setMode(s, v)],
  ["N", (s, v) => setDsn(s, "notify", v)],
  ["R", (s, v) => setDsn(s, "ret", v)],
  ["V", (s, v) => setDsn(s, "envid", v)],
]);

/** -N never | success,failure,delay; -R full | hdrs; -V an envelope id of printable ASCII, at most MAX_ENVID characters. */
function setDsn(s: State, which: keyof SendmailDsn, v: string): Result<void> {
  const d = (s.dsn ??= {});
  if (which === "notify") {
    const n = parseNotify(v);
    if (n === null) return perm(`-N needs never, or one or more of success,failure,delay; ${USAGE}`, "5.3.0");
    d.notify = n;
  } else if (which === "ret") {
    const r = v.toUpperCase();
    if (r !== "FULL" && r !== "HDRS") return perm(`-R needs full or hdrs; ${USAGE}`, "5.3.0");
    d.ret = r;
  } else {
    if (v === "" || v.length > MAX_ENVID || !/^[\x20-\x7e]+$/.test(v)) return perm(`-V needs an envelope id of 1 to ${MAX_ENVID} printable characters; ${USAGE}`, "5.3.0");
    d.envid = v;
  }
  return ok(undefined);
}

function setSender(s: State, v: string): Result<void> {
  s.sender = v;
  return ok(undefined);
}
function setMode(s: State, v: string): Result<void> {
  const mode = BMODES.get(v);
  if (mode === undefined) return perm(`Unsupported mode -b${v}; ${USAGE}`, "5.3.0");
  s.mode = mode;
  return ok(undefined);
}

/** Reads `argv` (without the program name) for the given personality. */
export function parseSendmailArgs(argv: readonly string[], as: Personality = "sendmail"): Result<SendmailPlan> {
  if (as === "mailq") return ok({ kind: "list" });
  if (as === "newaliases") return ok({ kind: "newaliases" });
  const s: State = { mode: "m", header: false, sender: null, fullName: null, dsn: null };
  const end = scanOptions(argv, (arg, next) => readWord(s, arg, next));
  return end.kind === "ok" ? plan(s, argv.slice(end.value)) : end;
}

/** One option word; ok(1) when it used the next word as its value. */
function readWord(s: State, arg: string, next: string | undefined): Result<number> {
  for (let j = 1; j < arg.length; j++) {
    const c = arg[j]!;
    if (c === "t") s.header = true;
    else if (IGNORED.has(c)) continue;
    else if (SKIP_REST.has(c)) return ok(0);
    else if (c === "q") {
      if (j + 1 < arg.length) return perm(`Unsupported option ${arg}: -q runs the queue once; qm start keeps it running; ${USAGE}`, "5.3.0");
      s.mode = "q";
    } else if (IGNORED_WITH_VALUE.has(c) || VALUE_SETTERS.has(c)) {
      const attached = arg.slice(j + 1);
      const value = attached !== "" ? attached : next;
      if (value === undefined) return perm(`Option -${c} needs a value; ${USAGE}`, "5.3.0");
      const set = VALUE_SETTERS.get(c);
      if (set) {
        const r = set(s, value);
        if (r.kind !== "ok") return r;
      }
      return ok(attached !== "" ? 0 : 1);
    } else return perm(`Unsupported option -${printable(c)}; ${USAGE}`, "5.3.0");
  }
  return ok(0);
}

const MODE_PLANS = new Map<Mode, SendmailPlan>([
  ["s", { kind: "smtp" }],
  ["p", { kind: "list" }],
  ["i", { kind: "newaliases" }],
  ["q", { kind: "run" }],
]);

function plan(s: State, recipients: readonly string[]): Result<SendmailPlan> {
  const other = MODE_PLANS.get(s.mode);
  if (other) return ok(other);
  const mode = s.header ? "H" : "a";
  return ok({ kind: "inject", mode, sender: s.sender, fullName: s.fullName, recipients, ...(s.dsn ? { dsn: s.dsn } : {}) });
}

function printable(c: string): string {
  const code = c.charCodeAt(0);
  return code < 33 || code > 126 ? `\\x${code.toString(16).padStart(2, "0")}` : c;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment qm inject runs with: -f replaces the sender's identity
 * (QMAILUSER and QMAILHOST from the address, split at its last @; the name
 * variables cleared), -F sets the full name. Unlike qmail's wrapper, -F
 * survives -f.
 */
export function injectEnv(p: { readonly sender: string | null; readonly fullName: string | null }, env: Env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  if (p.sender !== null) {
    for (const k of ["QMAILNAME", "MAILNAME", "NAME", "QMAILHOST", "MAILHOST", "QMAILUSER", "MAILUSER"]) delete out[k];
    const at = p.sender.lastIndexOf("@");
    out.QMAILUSER = at < 0 ? p.sender : p.sender.slice(0, at);
    if (at >= 0) out.QMAILHOST = p.sender.slice(at + 1);
  }
  if (p.fullName !== null) out.QMAILNAME = p.fullName;
  return out;
}

/** sendmail -bs: a trusted local client, as qmail's wrapper sets it up when PROTO is unset. */
export function smtpEnv(env: Env): Record<string, string | undefined> {
  if (env.PROTO !== undefined) return { ...env };
  return {
    ...env,
    RELAYCLIENT: "",
    DATABYTES: "0",
    PROTO: "TCP",
    TCPLOCALIP: "127.0.0.1",
    TCPLOCALHOST: "localhost",
    TCPREMOTEIP: "127.0.0.1",
    TCPREMOTEHOST: "localhost",
    TCPREMOTEINFO: "sendmail-bs",
  };
}
