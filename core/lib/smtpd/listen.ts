import { parseIP } from "../base/ip-addr.ts";
import { ok, perm, type Result } from "../base/result.ts";

/**
 * A listener of qm smtpd: an address, a mode and its limits, as one line of
 * control/listen or one --listen of qm start says it:
 *   ADDRESS:PORT [smtp|submission|smtps] [max=N] [max-per-ip=N] [rules=FILE]
 * `smtp` is port 25's policy; `submission` (RFC 6409) wants STARTTLS and AUTH
 * before MAIL; `smtps` is submission with TLS from the first byte (RFC 8314).
 */
export type SmtpMode = "smtp" | "submission" | "smtps";

export interface ListenerSpec {
  readonly address: string; // as written: 127.0.0.1:25, [::]:587
  readonly mode: SmtpMode;
  readonly max: number | null; // null: qm smtpd's default
  readonly maxPerIP: number | null;
  readonly rules: string | null; // a file in control/
}

export const MODES: readonly SmtpMode[] = ["smtp", "submission", "smtps"];
/** The most sessions a listener may be given (max=, max-per-ip=, --max). */
export const MAX_SESSIONS = 100_000;
const MAX_LINE = 1000;
const RULES_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$/;

/** "127.0.0.1:25", "[::1]:587", ":25": the address part of a listener. */
export function isListenAddress(text: string): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m || Number(m[3]) > 65535) return false;
  const host = m[1] ?? m[2] ?? "";
  return host === "" || parseIP(host) !== null;
}

/** A positive session count, or null. */
export function sessionCount(text: string): number | null {
  if (!/^\d{1,6}$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 && n <= MAX_SESSIONS ? n : null;
}

export function isRulesFile(name: string): boolean {
  return RULES_FILE.test(name);
}

/** One listener line (a control/listen line or a --listen value) -> its spec; `where` names it in errors. */
export function parseListener(line: string, where: string): Result<ListenerSpec> {
  const bad = (why: string) => perm(`${where}: ${why}`, "5.3.5");
  if (line.length > MAX_LINE) return bad(`longer than ${MAX_LINE} bytes`);
  const [address = "", ...words] = line.trim().split(/[ \t]+/);
  if (!isListenAddress(address)) return bad(`bad address ${show(address)}: use IP:PORT or [IPv6]:PORT`);
  let mode: SmtpMode | null = null;
  const seen = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf("=");
    const key = eq < 0 ? w : w.slice(0, eq);
    if (eq < 0 && (MODES as readonly string[]).includes(w)) {
      if (mode !== null) return bad(`more than one mode (${mode}, ${w})`);
      mode = w as SmtpMode;
      continue;
    }
    if (eq < 0 || !["max", "max-per-ip", "rules"].includes(key)) return bad(`unknown word ${show(w)} (use smtp, submission, smtps, max=N, max-per-ip=N, rules=FILE)`);
    if (seen.has(key)) return bad(`${key}= given twice`);
    seen.set(key, w.slice(eq + 1));
  }
  const count = (key: string): Result<number | null> => {
    const v = seen.get(key);
    if (v === undefined) return { kind: "ok", value: null };
    const n = sessionCount(v);
    return n === null ? bad(`${key}= takes a number from 1 to ${MAX_SESSIONS}, not ${show(v)}`) : { kind: "ok", value: n };
  };
  const max = count("max");
  if (max.kind !== "ok") return max;
  const perIP = count("max-per-ip");
  if (perIP.kind !== "ok") return perIP;
  const rules = seen.get("rules") ?? null;
  if (rules !== null && !isRulesFile(rules)) return bad(`rules= names a file in control/, not ${show(rules)}`);
  return ok({ address, mode: mode ?? "smtp", max: max.value, maxPerIP: perIP.value, rules });
}

/** Lines of listeners -> specs; an address may be listed once (port 0, "any free port", is exempt). */
export function parseListeners(lines: readonly string[], where: (i: number) => string): Result<ListenerSpec[]> {
  const out: ListenerSpec[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const r = parseListener(lines[i]!, where(i));
    if (r.kind !== "ok") return r;
    const key = r.value.address.toLowerCase();
    if (!key.endsWith(":0") && seen.has(key)) return perm(`${where(i)}: ${show(r.value.address)} is listed twice`, "5.3.5");
    seen.add(key);
    out.push(r.value);
  }
  return ok(out);
}

/** The qm smtpd arguments that start this listener. */
export function listenerArgs(l: ListenerSpec): string[] {
  const args = ["--listen", l.address];
  if (l.mode === "submission") args.push("--submission");
  if (l.mode === "smtps") args.push("--tls-wrapper");
  if (l.max !== null) args.push("--max", String(l.max));
  if (l.maxPerIP !== null) args.push("--max-per-ip", String(l.maxPerIP));
  if (l.rules !== null) args.push("--rules", l.rules);
  return args;
}

function show(s: string): string {
  const t = s.length > 60 ? `${s.slice(0, 60)}...` : s;
  return JSON.stringify(t);
}
