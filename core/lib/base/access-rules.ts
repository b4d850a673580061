import { parseIP, parseIPv4, inPrefix } from "./ip-addr.ts";
import { ok, perm, type Result } from "./result.ts";

/**
 * The smtpd access rules (man qm-smtpd-rules(5)), in the spirit of tcprules:
 * one rule a line, `ADDRESS:allow|deny[,NAME=value]...`, where ADDRESS is an
 * IP address, a dotted IPv4 prefix ending in "." ("10.1."), a CIDR prefix
 * ("2001:db8::/32") or empty (the default rule). The most specific matching
 * rule wins (longest prefix; the first of equals); no match allows.
 */
export interface Rule {
  readonly net: Uint8Array | null; // null: the default rule
  readonly bits: number;
  readonly allow: boolean;
  readonly env: ReadonlyMap<string, string>;
  readonly line: number;
}

export interface Verdict {
  readonly allow: boolean;
  readonly env: ReadonlyMap<string, string>;
}

const MAX_RULES = 100_000;
const RULE = /^(.*?):(allow|deny)((?:,.*)?)$/;
const VAR = /^,([A-Za-z_][A-Za-z0-9_]{0,63})=("[^"]*"|[^,"]*)/;

/** Parses the whole rules file; a bad line is an error naming its number. */
export function parseRules(text: string): Result<Rule[]> {
  const rules: Rule[] = [];
  const lines = text.split("\n");
  if (lines.length > MAX_RULES) return perm(`Too many lines in the rules file (limit ${MAX_RULES})`, "5.3.5");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").replace(/[ \t\r]+$/, "");
    if (line === "" || line.startsWith("#")) continue;
    const rule = parseRule(line, i + 1);
    if (rule.kind !== "ok") return rule;
    rules.push(rule.value);
  }
  return ok(rules);
}

function parseRule(line: string, n: number): Result<Rule> {
  const m = RULE.exec(line);
  if (!m) return perm(`Rules line ${n}: expected ADDRESS:allow or ADDRESS:deny`, "5.3.5");
  const where = parseNet(m[1] ?? "");
  if (!where) return perm(`Rules line ${n}: bad address or prefix "${m[1]}"`, "5.3.5");
  const env = new Map<string, string>();
  let rest = m[3] ?? "";
  while (rest !== "") {
    const v = VAR.exec(rest);
    if (!v) return perm(`Rules line ${n}: expected ,NAME=value after the action`, "5.3.5");
    const raw = v[2] ?? "";
    env.set(v[1] ?? "", raw.startsWith('"') ? raw.slice(1, -1) : raw);
    rest = rest.slice(v[0].length);
  }
  return ok({ ...where, allow: m[2] === "allow", env, line: n });
}

function parseNet(addr: string): { net: Uint8Array | null; bits: number } | null {
  if (addr === "") return { net: null, bits: -1 };
  const slash = addr.indexOf("/");
  if (slash >= 0) {
    const net = parseIP(addr.slice(0, slash));
    const bitsText = addr.slice(slash + 1);
    if (!net || !/^\d{1,3}$/.test(bitsText) || Number(bitsText) > net.length * 8) return null;
    return { net, bits: Number(bitsText) };
  }
  if (addr.endsWith(".")) {
    const parts = addr.slice(0, -1).split(".");
    if (parts.length > 3) return null;
    const net = parseIPv4([...parts, ...Array<string>(4 - parts.length).fill("0")].join("."));
    return net ? { net, bits: parts.length * 8 } : null;
  }
  const net = parseIP(addr);
  return net ? { net, bits: net.length * 8 } : null;
}

/** The verdict for a client address (text as the socket reports it); no matching rule allows. */
export function matchRules(rules: readonly Rule[], ip: string): Verdict {
  const bytes = parseIP(ip);
  let best: Rule | null = null;
  for (const r of rules) {
    const hit = r.net === null || (bytes !== null && inPrefix(bytes, r.net, r.bits));
    if (hit && (best === null || r.bits > best.bits)) best = r;
  }
  return best ? { allow: best.allow, env: best.env } : { allow: true, env: new Map() };
}
