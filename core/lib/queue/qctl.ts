/**
 * `qm qctl`'s words (qm-qctl(8)): the command line, which messages a
 * selection names, and the listing in text and JSON. Pure: the program reads
 * the queue and the clock.
 */
import { parseId } from "./layout.ts";
import { oneLine, safe, type QueuedMessage, type Recipient } from "./qread.ts";
import { ok, perm, type Result } from "../base/result.ts";

export type Op = "list" | "show" | "delete" | "hold" | "release" | "flush" | "requeue" | "bounce";

export interface Selection {
  readonly ids: readonly number[];
  readonly domain?: string;
  readonly sender?: string;
  readonly older?: number;
  readonly all?: boolean;
}
export interface QctlCommand {
  readonly op: Op;
  readonly sel: Selection;
  readonly json: boolean;
  readonly reason: string;
}

export const USAGE = "qm qctl list|show|delete|hold|release|flush|requeue|bounce ... (see qm-qctl(8))";
export const DEFAULT_REASON = "This message was returned by the postmaster. (#5.0.0)";

/** What each operation accepts besides ids: [selectors allowed, ids allowed, nothing at all allowed]. */
const SHAPES = new Map<Op, { readonly flags: readonly string[]; readonly ids: boolean; readonly empty: boolean }>([
  ["list", { flags: ["--json", "--domain", "--sender", "--older"], ids: false, empty: true }],
  ["show", { flags: [], ids: true, empty: false }],
  ["delete", { flags: ["--domain", "--sender"], ids: true, empty: false }],
  ["hold", { flags: [], ids: true, empty: false }],
  ["release", { flags: [], ids: true, empty: false }],
  ["flush", { flags: ["--domain"], ids: true, empty: true }],
  ["requeue", { flags: ["--all"], ids: true, empty: false }],
  ["bounce", { flags: ["--reason"], ids: true, empty: false }],
]);
const VALUED = new Set(["--domain", "--sender", "--older", "--reason"]);
const MAX_IDS = 100_000;

/** argv after "qctl"; a bad word is a permanent failure naming it. */
export function parseQctlArgs(argv: readonly string[]): Result<QctlCommand> {
  const [word, ...rest] = argv;
  const shape = word === undefined ? undefined : SHAPES.get(word as Op);
  if (!shape) return perm(word === undefined ? `No operation given: ${USAGE}` : `Unknown operation ${safe(word.slice(0, 40))}: ${USAGE}`, "5.3.0");
  const op = word as Op;
  const ids: number[] = [];
  const flags = new Map<string, string>();
  let dashdash = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!dashdash && a === "--") {
      dashdash = true;
      continue;
    }
    if (!dashdash && a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a : a.slice(0, eq);
      if (!shape.flags.includes(name)) return perm(`qctl ${op} does not take ${safe(name)}`, "5.3.0");
      if (flags.has(name)) return perm(`${name} given twice`, "5.3.0");
      let value = "";
      if (VALUED.has(name)) {
        const v = eq < 0 ? rest[++i] : a.slice(eq + 1);
        if (v === undefined) return perm(`${name} needs a value`, "5.3.0");
        value = v;
      } else if (eq >= 0) return perm(`${name} takes no value`, "5.3.0");
      flags.set(name, value);
      continue;
    }
    const id = parseId(a.startsWith("#") ? a.slice(1) : a);
    if (id === null || !shape.ids) return perm(`Not a message id: ${safe(a.slice(0, 40))}`, "5.3.0");
    if (ids.length >= MAX_IDS) return perm(`More than ${MAX_IDS} message ids`, "5.3.0");
    ids.push(id);
  }
  return build(op, ids, flags, shape.empty);
}

function build(op: Op, ids: number[], flags: Map<string, string>, emptyOk: boolean): Result<QctlCommand> {
  const older = flags.get("--older");
  if (older !== undefined && !/^\d{1,10}$/.test(older)) return perm("--older needs a number of seconds", "5.3.0");
  const domain = flags.get("--domain");
  if (domain !== undefined && !/^[^\s@]+$/.test(domain)) return perm("--domain needs a domain name", "5.3.0");
  const selectors = ["--domain", "--sender", "--all"].filter((f) => flags.has(f));
  if (op !== "list" && selectors.length + (ids.length > 0 ? 1 : 0) > 1) return perm(`qctl ${op} takes ids or one of ${selectors.join(", ")}, not both`, "5.3.0");
  if (!emptyOk && ids.length === 0 && selectors.length === 0) return perm(`qctl ${op} needs a message id`, "5.3.0");
  if (op === "show" && ids.length !== 1) return perm("qctl show takes one message id", "5.3.0");
  const reason = flags.get("--reason");
  if (reason !== undefined && (reason.trim() === "" || reason.length > 1000)) return perm("--reason needs a text of at most 1000 bytes", "5.3.0");
  const sel: Selection = {
    ids,
    ...(domain !== undefined ? { domain: domain.toLowerCase() } : {}),
    ...(flags.has("--sender") ? { sender: flags.get("--sender")! } : {}),
    ...(older !== undefined ? { older: Number(older) } : {}),
    ...(flags.has("--all") ? { all: true } : {}),
  };
  return ok({ op, sel, json: flags.has("--json"), reason: reason ?? DEFAULT_REASON });
}

/** Whether a selector (--domain, --sender, --older) names this message; ids are matched by the caller. */
export function matches(m: QueuedMessage, sel: Selection, nowMs: number): boolean {
  if (sel.domain !== undefined && !m.recipients.some((r) => !r.done && domainOf(r.addr) === sel.domain)) return false;
  if (sel.sender !== undefined) {
    const want = sel.sender === "<>" ? "" : sel.sender.toLowerCase();
    if (m.sender.toLowerCase() !== want) return false;
  }
  if (sel.older !== undefined && nowMs - m.time < sel.older * 1000) return false;
  return true;
}

export function domainOf(addr: string): string {
  return addr.slice(addr.lastIndexOf("@") + 1).toLowerCase();
}

export type RecipientState = "pending" | "done" | "held";
function stateOf(m: QueuedMessage, r: Recipient): RecipientState {
  return r.done ? "done" : m.held ? "held" : "pending";
}

/** One message of `qm qctl list --json`; byte strings are given as UTF-8 where they are, with U+FFFD for bytes that are not. */
export function messageJson(m: QueuedMessage, nowMs: number, utf8: (s: string) => string): Record<string, unknown> {
  return {
    id: m.id,
    queued: new Date(m.time).toISOString(),
    age: Math.max(0, Math.floor((nowMs - m.time) / 1000)),
    size: m.size,
    sender: utf8(m.sender),
    held: m.held ?? false,
    bouncing: m.bouncing,
    recipients: m.recipients.map((r) => ({
      address: utf8(r.addr),
      channel: r.channel,
      state: stateOf(m, r),
      attempts: r.attempts ?? 0,
      lastError: r.error === undefined ? null : utf8(r.error),
      lastTry: r.lastTry === undefined ? null : new Date(r.lastTry * 1000).toISOString(),
      nextTry: r.done || r.nextTry === undefined ? null : new Date(r.nextTry * 1000).toISOString(),
    })),
  };
}

/**
 * One message of `qm qctl list`: `#ID  AGE  SIZE  <sender>  [held] [bouncing]`,
 * then a line per recipient: state, channel, address, attempts, next try, last error.
 */
export function formatListEntry(m: QueuedMessage, nowMs: number): string {
  const flags = `${m.held ? "  held" : ""}${m.bouncing ? "  bouncing" : ""}`;
  let out = `#${m.id}  ${formatAge(Math.floor((nowMs - m.time) / 1000))}  ${m.size}  <${safe(m.sender)}>${flags}\n`;
  for (const r of m.recipients) {
    const state = stateOf(m, r);
    out += `  ${state.padEnd(7)}  ${r.channel.padEnd(6)}  ${safe(r.addr)}`;
    if (state !== "done") {
      if (r.attempts) out += `  attempts ${r.attempts}`;
      if (r.nextTry !== undefined) out += `  next ${r.nextTry * 1000 <= nowMs ? "now" : new Date(r.nextTry * 1000).toISOString()}`;
      if (r.error !== undefined) out += `  last: ${oneLine(r.error)}`;
    }
    out += "\n";
  }
  return out;
}

/** 0s, 59s, 3m07s, 2h05m, 3d04h. */
export function formatAge(s: number): string {
  if (s < 60) return `${Math.max(0, s)}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}
