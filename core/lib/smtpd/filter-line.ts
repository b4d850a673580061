import { ok, temp, type Result } from "../base/result.ts";

/**
 * One line of control/milters or control/policyservers (qm-smtpd(8),
 * "Policy servers and milters"): where the server listens, then optionally
 * how long a reply may take and what to do when none comes:
 *
 *   127.0.0.1:10023
 *   [::1]:8891:10:accept
 *   unix:/run/opendkim/opendkim.sock:30:tempfail
 *
 * control/policyservers may add a fifth field, the protocol states at which
 * the server is asked (`rcpt`, `eom`, or `rcpt,eom`; default `rcpt`).
 */
export type Endpoint = { readonly kind: "inet"; readonly host: string; readonly port: number } | { readonly kind: "unix"; readonly path: string };
export type DefaultAction = "tempfail" | "accept" | "reject";
export type PolicyState = "rcpt" | "eom";

export interface FilterSpec {
  /** The line's address part, as logged. */
  readonly name: string;
  readonly endpoint: Endpoint;
  readonly timeoutMs: number;
  readonly onFailure: DefaultAction;
  readonly states: readonly PolicyState[];
}

/** Postfix's milter_command_timeout and smtpd_policy_service_timeout are 30 and 100 s; one figure for both here. */
export const DEFAULT_FILTER_TIMEOUT = 30;
/** Servers a file may name: each is asked in turn, one connection each per session. */
export const MAX_FILTERS = 20;
const ACTIONS = new Set<string>(["tempfail", "accept", "reject"]);
const STATES = new Set<string>(["rcpt", "eom"]);

/** Splits an endpoint and its options; `states` says whether the fifth field may be there. */
export function parseFilterLine(line: string, states: boolean): Result<FilterSpec> {
  const bad = (why: string) => temp(`${why}: ${JSON.stringify(line.slice(0, 200))}`, "4.3.0");
  let rest: string[];
  let endpoint: Endpoint;
  if (line.startsWith("unix:")) {
    // the path may hold colons; the options are the trailing fields that look like options
    const fields = line.slice(5).split(":");
    let n = 1;
    while (n < fields.length && !/^\d+$/.test(fields[n]!)) n++;
    const path = fields.slice(0, n).join(":");
    if (!path.startsWith("/")) return bad("a unix socket needs a full path");
    endpoint = { kind: "unix", path };
    rest = fields.slice(n);
  } else {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})(?::(.*))?$/.exec(line);
    if (!m) return bad("not host:port or unix:/path");
    const port = Number(m[2]);
    if (port < 1 || port > 65535) return bad("port out of range");
    endpoint = { kind: "inet", host: m[1]!.replace(/^\[|\]$/g, ""), port };
    rest = m[3] === undefined ? [] : m[3].split(":");
  }
  if (rest.length > (states ? 3 : 2)) return bad("too many fields");
  const [timeout, action, when] = rest;
  if (timeout !== undefined && !/^\d{1,6}$/.test(timeout)) return bad("the timeout must be a number of seconds");
  if (action !== undefined && !ACTIONS.has(action)) return bad("the default action must be tempfail, accept or reject");
  const list = when === undefined ? ["rcpt"] : when.split(",");
  if (list.some((s) => !STATES.has(s))) return bad("the states must be rcpt, eom or rcpt,eom");
  const name = endpoint.kind === "unix" ? `unix:${endpoint.path}` : endpoint.host.includes(":") ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
  return ok({ name, endpoint, timeoutMs: Math.max(1, Number(timeout ?? DEFAULT_FILTER_TIMEOUT)) * 1000, onFailure: (action ?? "tempfail") as DefaultAction, states: [...new Set(list)] as PolicyState[] });
}

/** Every line of one control file; the first bad line makes the file (and so the session's controls) unreadable. */
export function parseFilterLines(file: string, lines: readonly string[], states: boolean): Result<readonly FilterSpec[]> {
  if (lines.length > MAX_FILTERS) return temp(`control/${file} names more than ${MAX_FILTERS} servers`, "4.3.0");
  const out: FilterSpec[] = [];
  for (const l of lines) {
    const r = parseFilterLine(l, states);
    if (r.kind !== "ok") return temp(`control/${file}: ${r.reason}`, "4.3.0");
    out.push(r.value);
  }
  return ok(out);
}

/** The reply a server's default action gives at a stage that can refuse (null: go on without it). */
export function failureReply(action: DefaultAction, what: string): string | null {
  if (action === "accept") return null;
  return action === "reject" ? `554 5.7.1 ${what} failed; message refused` : `451 4.7.1 ${what} is not available; try again later`;
}
