/**
 * /etc/aliases compiled to cdb records, and their expansion at delivery
 * (fastforward's newaliases and fastforward, docs/qmail.md §11.1–11.2). Pure.
 *
 * Instructions stored per alias, each NUL-terminated: `&address`,
 * `|command`, `>file` (append, mbox format), `.path` or `/path` (an include
 * file read at delivery, one address per line).
 */
import { ok, perm, type Result } from "../base/result.ts";
import type { CdbRecord } from "../base/cdb.ts";
import { toBytes } from "../base/bytes.ts";

export interface AliasDefaults {
  readonly defaultHost: string;
  readonly defaultDomain: string;
  readonly plusDomain: string;
}
const MAX_ADDR = 800;
const MAX_LINES = 1_000_000;

/** Physical lines → logical lines: a line starting with space or tab continues the one before; empty lines are skipped. */
export function logicalLines(text: string): { line: string; at: number }[] {
  const out: { line: string; at: number }[] = [];
  const phys = text.split("\n");
  for (let i = 0; i < phys.length && i < MAX_LINES; i++) {
    const l = phys[i]!.replace(/\r$/, "");
    if (l === "") continue;
    if ((l[0] === " " || l[0] === "\t") && out.length > 0) out[out.length - 1]!.line += `\n${l}`;
    else out.push({ line: l, at: i + 1 });
  }
  return out.filter((l) => !l.line.startsWith("#"));
}

/** Splits at top-level `sep` (not inside quotes, <>, [] or comments); drops (comments). */
export function splitTop(s: string, sep: string, max = Infinity): string[] {
  const parts: string[] = [];
  let cur = "";
  let depth = 0; // ( ) nesting
  let quote = false;
  let angle = false;
  let square = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) { cur += c; if (c === "\\" && i + 1 < s.length) cur += s[++i]; else if (c === '"') quote = false; continue; }
    if (depth > 0) { if (c === "\\") i++; else if (c === "(") depth++; else if (c === ")") depth--; continue; }
    if (c === "(") { depth = 1; continue; }
    if (c === '"') quote = true;
    else if (c === "<") angle = true;
    else if (c === ">") angle = false;
    else if (c === "[") square = true;
    else if (c === "]") square = false;
    else if (c === sep && !angle && !square && parts.length < max) { parts.push(cur); cur = ""; continue; }
    cur += c;
  }
  parts.push(cur);
  return parts.map((p) => p.replace(/\s+/g, " ").trim());
}

/** Completes an address as newaliases does: @defaulthost, trailing + → .plusdomain, no dot → .defaultdomain. */
export function completeAddress(addr: string, d: AliasDefaults): string {
  let a = addr.includes("@") ? addr : `${addr}@${d.defaultHost}`;
  const at = a.lastIndexOf("@");
  let domain = a.slice(at + 1);
  if (domain.endsWith("+")) domain = `${domain.slice(0, -1)}.${d.plusDomain}`;
  else if (!domain.includes(".") && !domain.startsWith("[")) domain = `${domain}.${d.defaultDomain}`;
  a = a.slice(0, at + 1) + domain;
  return a;
}

function unquote(local: string): string {
  const m = /^"((?:[^"\\]|\\.)*)"(@.*)?$/.exec(local);
  return m ? m[1]!.replace(/\\(.)/g, "$1") + (m[2] ?? "") : local;
}

/** One item of an alias line → an instruction, or an error text. */
function item(raw: string, d: AliasDefaults): string | Error {
  if (raw === "") return new Error("empty address");
  if (raw.toLowerCase().startsWith(":include:")) {
    const path = raw.slice(9).trim();
    if (path === "") return new Error("empty :include: path");
    return path.startsWith("/") || path.startsWith(".") ? path : `./${path}`;
  }
  const r = unquote(raw);
  if (r.startsWith("|")) return r;
  if (r.startsWith("/") && !r.includes("@")) return `>${r}`;
  const angle = /<([^>]*)>\s*$/.exec(raw);
  const addr = unquote(angle ? angle[1]!.trim() : raw);
  if (addr === "") return new Error("empty address");
  const full = completeAddress(addr, d);
  if (full.length > MAX_ADDR) return new Error("address too long");
  return `&${full}`;
}

/** The aliases text → cdb records, or a permanent error naming the line. */
export function compileAliases(text: string, d: AliasDefaults): Result<CdbRecord[]> {
  if (text.includes("\0")) return perm("aliases: NUL in file", "5.3.0");
  const records: CdbRecord[] = [];
  for (const { line, at } of logicalLines(text)) {
    const [name, rest] = splitTop(line, ":", 1);
    if (rest === undefined || !name) return perm(`aliases line ${at}: missing colon or alias name`, "5.3.0");
    const alias = unquote(name).toLowerCase();
    const key = alias.includes("@") ? alias : `${alias}@`;
    const items = splitTop(rest, ",").filter((x) => x !== "");
    if (items.length === 0) return perm(`aliases line ${at}: no addresses for ${alias}`, "5.3.0");
    const ins: string[] = [];
    for (const raw of items) {
      const r = item(raw, d);
      if (r instanceof Error) return perm(`aliases line ${at}: ${r.message}`, "5.3.0");
      ins.push(r);
    }
    records.push({ key: toBytes(`:${key}`), data: toBytes(ins.map((x) => `${x}\0`).join("")) });
    if (alias.startsWith("owner-") && alias.length > 6) {
      records.push({ key: toBytes(`?${key.slice(6)}`), data: toBytes(completeAddress(alias, d)) });
    }
  }
  return ok(records);
}

/** cdb keys fastforward tries for a recipient, first hit wins: exact, @domain, local@. */
export function lookupKeys(prefix: ":" | "?", recipient: string): string[] {
  const r = recipient.toLowerCase();
  const at = r.lastIndexOf("@");
  if (at < 0) return [`${prefix}${r}@`];
  return [`${prefix}${r}`, `${prefix}${r.slice(at)}`, `${prefix}${r.slice(0, at + 1)}`];
}

/** Decoded instruction list of one cdb value. */
export function decodeInstructions(data: string): string[] {
  return data.split("\0").filter((x) => x !== "");
}

/** Lines of an include file: addresses (or & forms) and nested includes; blank and # lines skipped. */
export function parseIncludeList(text: string, d: AliasDefaults): string[] {
  const out: string[] = [];
  for (const l of text.split("\n")) {
    const line = l.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith(".") || line.startsWith("/")) out.push(line);
    else if (line.toLowerCase().startsWith(":include:")) out.push(line.slice(9).trim());
    else {
      const a = line.startsWith("&") ? line.slice(1) : line;
      if (a.length < 900) out.push(`&${completeAddress(a, d)}`);
    }
  }
  return out;
}
