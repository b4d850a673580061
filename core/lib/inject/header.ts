/**
 * qmail-inject's header processing (docs/qmail.md §7.4): rewrite address fields,
 * drop Bcc, Resent-Bcc, Return-Path and Content-Length, pick recipients per
 * mode, decide the envelope sender, and add Date, Message-ID, From, Cc and
 * Mail-Followup-To (or their Resent- forms) before the surviving fields.
 * Pure: time, pid and configuration come in as arguments.
 */
import { addrText, formatAddr, formatItem, listAddrs, mapAddrs, parseAddressList, rewriteAddr, type Addr, type RewriteHosts } from "./address.ts";
import { formatDate822 } from "../base/date822.ts";
import { MAX_ADDR } from "../queue/envelope.ts";
import { foldList, type Field } from "../base/header.ts";
import type { InjectEnv } from "./env.ts";
import type { InjectOptions } from "./args.ts";
import { ok, perm, type Result } from "../base/result.ts";
import { quoteString } from "./token822.ts";

export interface InjectConfig {
  readonly hosts: RewriteHosts;
  readonly idhost: string;
  readonly env: InjectEnv;
  /** QMAILMFTFILE's lines, or null */
  readonly mft: readonly string[] | null;
  readonly now: number;
  readonly pid: number;
}
export interface Prepared {
  /** the new header, each field ending in "\n", without the empty line */
  readonly header: string;
  readonly sender: string;
  readonly recipients: readonly string[];
}

type Rcpt = "normal" | "resent" | null;
interface Rule {
  readonly rcpt: Rcpt;
  readonly drop?: boolean;
  readonly mft?: boolean;
}
// A Map: field names are untrusted words.
const ADDRESS_FIELDS = new Map<string, Rule>([
  ["to", { rcpt: "normal", mft: true }],
  ["cc", { rcpt: "normal", mft: true }],
  ["bcc", { rcpt: "normal", drop: true }],
  ["apparently-to", { rcpt: "normal" }],
  ["resent-to", { rcpt: "resent" }],
  ["resent-cc", { rcpt: "resent" }],
  ["resent-bcc", { rcpt: "resent", drop: true }],
  ...["sender", "from", "reply-to", "return-receipt-to", "errors-to", "resent-sender", "resent-from", "resent-reply-to"].map(
    (k): [string, Rule] => [k, { rcpt: null }],
  ),
]);
const RESENT = new Set(["resent-sender", "resent-from", "resent-reply-to", "resent-to", "resent-cc", "resent-bcc", "resent-date", "resent-message-id"]);
const VERP = "-@[]";

interface Scan {
  readonly fields: string[];
  readonly recipients: string[];
  readonly mftAddrs: Addr[];
  readonly seen: Set<string>;
  returnPath: string | null;
}

export function prepareHeader(fields: readonly Field[], opts: InjectOptions, cfg: InjectConfig): Result<Prepared> {
  const letters = cfg.env.letters;
  const resent = fields.some((f) => RESENT.has(f.key));
  const s: Scan = { fields: [], recipients: [], mftAddrs: [], seen: new Set(), returnPath: null };
  for (const f of fields) {
    if (f.key === "content-length" || (f.key === "from" && letters.has("f")) || (f.key === "message-id" && letters.has("i"))) continue;
    s.seen.add(f.key);
    const r = f.key === "return-path" ? returnPath(f, s, cfg) : rewriteField(f, s, cfg, resent);
    if (r.kind !== "ok") return r;
  }
  const args: string[] = [];
  for (const a of opts.recipients) {
    const r = parseAddressList(a);
    if (r.kind !== "ok") return perm(`Unable to parse address ${JSON.stringify(a)}: ${r.reason}`, "5.1.3");
    args.push(...listAddrs(r.value).map((x) => addrText(rewriteAddr(x, cfg.hosts))).filter((x) => x !== ""));
  }
  const recipients = pickRecipients(opts, args, s.recipients);
  const sender = envelopeSender(opts, s, cfg);
  if (sender.kind !== "ok") return sender;
  const long = [sender.value, ...recipients].find((a) => a.length + 1 >= MAX_ADDR); // qmail-queue: exit 11
  if (long !== undefined) return perm(`Address too long: ${long.slice(0, 60)}...`, "5.1.3");
  const header = [...addedFields(s, cfg, resent), ...s.fields].join("");
  return ok({ header, sender: sender.value, recipients });
}

function pickRecipients(opts: InjectOptions, args: string[], header: string[]): string[] {
  const byMode = new Map([["a", args], ["h", header], ["A", args.length > 0 ? args : header], ["H", [...header, ...args]]]);
  return byMode.get(opts.mode) ?? args;
}

function returnPath(f: Field, s: Scan, cfg: InjectConfig): Result<true> {
  if (cfg.env.letters.has("s") || s.returnPath !== null) return ok(true);
  const items = parseAddressList(f.value);
  if (items.kind !== "ok") return perm(`Unable to parse address in Return-Path: ${items.reason}`, "5.1.3");
  const first = listAddrs(items.value)[0];
  s.returnPath = first ? addrText(rewriteAddr(first, cfg.hosts)) : "";
  return ok(true);
}

function rewriteField(f: Field, s: Scan, cfg: InjectConfig, resent: boolean): Result<true> {
  const rule = ADDRESS_FIELDS.get(f.key);
  if (!rule) {
    s.fields.push(f.raw);
    return ok(true);
  }
  const name = f.raw.slice(0, f.raw.indexOf(":")).replace(/[ \t]+$/, "");
  const parsed = parseAddressList(f.value);
  if (parsed.kind !== "ok") return perm(`Unable to parse address in ${name} field: ${parsed.reason}`, "5.1.3");
  const items = mapAddrs(parsed.value, (a) => rewriteAddr(a, cfg.hosts));
  const addrs = listAddrs(items);
  if (rule.rcpt !== null && (rule.rcpt === "resent") === resent) s.recipients.push(...addrs.map(addrText).filter((x) => x !== ""));
  if (rule.mft) s.mftAddrs.push(...addrs);
  if (!rule.drop) s.fields.push(items.length > 0 ? foldList(name, items.map(formatItem), "\n ") : `${name}:\n`);
  return ok(true);
}

function envelopeSender(opts: InjectOptions, s: Scan, cfg: InjectConfig): Result<string> {
  const { letters } = cfg.env;
  if (opts.sender !== null) {
    const r = parseAddressList(opts.sender);
    if (r.kind !== "ok") return perm(`Unable to parse sender ${JSON.stringify(opts.sender)}: ${r.reason}`, "5.1.3");
    const addrs = listAddrs(r.value);
    if (addrs.length > 1) return perm(`More than one sender address: ${JSON.stringify(opts.sender)}`, "5.1.3");
    return ok(addrs[0] ? addrText(rewriteAddr(addrs[0], cfg.hosts)) : "");
  }
  if (s.returnPath !== null) return ok(letters.has("r") && s.returnPath !== "" ? s.returnPath + VERP : s.returnPath);
  let user = cfg.env.senderUser;
  if (letters.has("m")) user += `-${Math.floor(cfg.now / 1000)}.${cfg.pid}`;
  if (letters.has("r")) user += "-";
  const addr = addrText(rewriteAddr({ local: user, domain: cfg.env.senderHost }, cfg.hosts));
  return ok(letters.has("r") ? addr + VERP : addr);
}

function addedFields(s: Scan, cfg: InjectConfig, resent: boolean): string[] {
  const p = resent ? "Resent-" : "";
  const has = (k: string): boolean => s.seen.has(`${p.toLowerCase()}${k}`);
  const out: string[] = [];
  if (!has("date")) out.push(`${p}Date: ${formatDate822(cfg.now)}\n`);
  if (!has("message-id")) out.push(`${p}Message-ID: ${messageId(cfg)}\n`);
  if (!has("from")) out.push(`${p}From: ${defaultFrom(cfg)}\n`);
  if (!has("to") && !has("cc")) out.push(`${p}Cc: recipient list not shown: ;\n`);
  if (!resent && cfg.mft !== null && !s.seen.has("mail-followup-to")) {
    const lists = new Set(cfg.mft.map((l) => l.toLowerCase()));
    if (s.mftAddrs.some((a) => lists.has(addrText(a).toLowerCase()))) {
      out.push(`Mail-Followup-To: ${s.mftAddrs.map(formatAddr).join(",\n  ")}\n`);
    }
  }
  return out;
}

/** <YYYYMMDDHHMMSS.pid.qm@idhost>, UTC. */
function messageId(cfg: Pick<InjectConfig, "now" | "pid" | "idhost">): string {
  const stamp = new Date(cfg.now).toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `<${stamp}.${cfg.pid}.qm@${cfg.idhost}>`;
}

/** `"Name" <user@host>`, `user@host (Name)` with QMAILINJECT=c, or `user@host` without a name. */
function defaultFrom(cfg: Pick<InjectConfig, "env" | "hosts">): string {
  const addr = formatAddr(rewriteAddr({ local: cfg.env.fromUser, domain: cfg.env.fromHost }, cfg.hosts));
  const name = cfg.env.name;
  if (name === null) return addr;
  if (cfg.env.letters.has("c")) return `${addr} (${name.replace(/[()\\]/g, (c) => `\\${c}`)})`;
  return `${quoteString(name)} <${addr}>`;
}
