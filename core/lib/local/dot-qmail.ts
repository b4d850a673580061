/**
 * `.qmail` files (docs/qmail.md §4.3–4.7): which file to read, what each line
 * means, the environment and the three header lines qmail-local builds.
 * Pure: the caller opens files and runs programs.
 */
import { ok, perm, temp, type Result } from "../base/result.ts";
import { formatCtime } from "../base/date822.ts";
import { quote2 } from "../base/quote.ts";

export type Instruction =
  | { readonly kind: "comment" }
  | { readonly kind: "program"; readonly command: string }
  | { readonly kind: "mbox"; readonly path: string }
  | { readonly kind: "maildir"; readonly path: string }
  | { readonly kind: "forward"; readonly address: string }
  | { readonly kind: "lmtp"; readonly route: string }
  | { readonly kind: "forward-only" };

/** A .qmail text longer than this is refused (temp): qmail reads it whole; qm bounds it. */
const MAX_DOT_QMAIL = 1 << 20;

type LineRule = (line: string) => Instruction;
const file: LineRule = (l) => (l.endsWith("/") ? { kind: "maildir", path: l } : { kind: "mbox", path: l });
// Dispatch on the first byte of an untrusted line: a Map (docs/style.md §4).
const RULES = new Map<string, LineRule>([
  ["#", () => ({ kind: "comment" })],
  [".", file],
  ["/", file],
  ["|", (l) => ({ kind: "program", command: l.slice(1) })],
  ["+", (l) => (l === "+list" ? { kind: "forward-only" } : { kind: "comment" })],
  ["&", (l) => ({ kind: "forward", address: l.slice(1) })],
]);

/** Lines of a .qmail text (trailing spaces and tabs trimmed) as instructions, in order. */
export function parseDotQmail(text: string): Result<Instruction[]> {
  if (text.length > MAX_DOT_QMAIL) return temp(".qmail file is too long", "4.2.1");
  if (text.includes("\0")) return temp(".qmail file contains NUL", "4.2.1");
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  const lines = body.split("\n").map((l) => l.replace(/[ \t]+$/, ""));
  if (lines[0] === "") return temp("Uh-oh: first line of .qmail file is blank", "4.2.1");
  const out: Instruction[] = [];
  for (const line of lines) {
    if (line === "") continue;
    // qm's own: a mailbox behind an LMTP server (core/lib/remote/lmtp.ts); no address starts so
    if (line.startsWith("lmtp:")) {
      out.push({ kind: "lmtp", route: line });
      continue;
    }
    const rule = RULES.get(line[0]!) ?? ((l: string) => ({ kind: "forward", address: l }) as const);
    out.push(rule(line));
  }
  return ok(out);
}

/** lowercase(ext) with every "." as ":" — no file name built from it can climb out of the home. */
export function safeExt(ext: string): string {
  return ext.toLowerCase().replace(/\./g, ":");
}

export interface Candidate {
  readonly name: string; // relative to the home
  readonly defaultTail: string | null; // DEFAULT when this file matches
}

/** qmail-local's probe order: .qmail<dash><ext>, then <prefix>default from the longest prefix ending at "-". */
export function dotQmailCandidates(dash: string, ext: string): Candidate[] {
  const safe = safeExt(ext);
  const out: Candidate[] = [{ name: `.qmail${dash}${safe}`, defaultTail: exactDefault(safe, ext) }];
  if (dash === "") {
    if (ext === "") out.push({ name: ".qmaildefault", defaultTail: "" });
    return out;
  }
  for (let i = safe.length; i >= 0; i--) {
    if (i !== 0 && safe[i - 1] !== "-") continue;
    out.push({ name: `.qmail${dash}${safe.slice(0, i)}default`, defaultTail: ext.slice(i) });
  }
  return out;
}
function exactDefault(safe: string, ext: string): string | null {
  if (!safe.endsWith("default")) return null;
  const i = safe.length - "default".length;
  return i === 0 || safe[i - 1] === "-" ? ext.slice(i) : null;
}

/** Program exit status → outcome (qmail-command(8)); a signal is temp. */
export type ProgramOutcome = "ok" | "stop" | "perm" | "temp";
const PERM_CODES = new Set([64, 65, 70, 76, 77, 78, 100, 112]);
export function programOutcome(code: number | null): ProgramOutcome {
  if (code === 0) return "ok";
  if (code === 99) return "stop";
  if (code !== null && PERM_CODES.has(code)) return "perm";
  return "temp";
}

const noNewline = (s: string): string => s.replace(/\n/g, "_");
export function dtLine(local: string, domain: string): string {
  return `Delivered-To: ${noNewline(`${local}@${domain}`)}\n`;
}
export function rpLine(sender: string): string {
  return `Return-Path: <${noNewline(quote2(sender))}>\n`;
}
/** "From <sender> Www Mmm DD HH:MM:SS YYYY\n" in UTC; the clock is passed in. */
export function ufLine(sender: string, now: Date): string {
  const s = sender === "" ? "MAILER-DAEMON" : sender.replace(/[ \t\n]/g, "-");
  return `From ${s} ${formatCtime(now.getTime())}\n`;
}

/** EXT2..EXT4: the text after the first, second, third "-" of ext ("" when there is none). */
export function extParts(ext: string): [string, string, string] {
  const after = (n: number): string => {
    let i = -1;
    for (let k = 0; k < n; k++) {
      i = ext.indexOf("-", i + 1);
      if (i < 0) return "";
    }
    return ext.slice(i + 1);
  };
  return [after(1), after(2), after(3)];
}
/** HOST2..HOST4: domain without its last one, two, three dot-parts (the whole domain when dots run out). */
export function hostParts(domain: string): [string, string, string] {
  const cut = (n: number): string => {
    let i = domain.length;
    for (let k = 0; k < n; k++) {
      i = domain.lastIndexOf(".", i - 1);
      if (i < 0) return domain;
    }
    return domain.slice(0, i);
  };
  return [cut(1), cut(2), cut(3)];
}

/** NEWSENDER (docs/qmail.md §4.6), given which owner files exist. */
export function newSender(sender: string, local: string, domain: string, owner: boolean, ownerDefault: boolean): string {
  if (sender === "" || sender === "#@[]" || !owner) return sender;
  return ownerDefault ? `${local}-owner-@${domain}-@[]` : `${local}-owner@${domain}`;
}

/** Checks qmail-local's eight arguments; NUL or a relative home is a usage error. */
export function checkArgs(args: readonly string[]): Result<void> {
  if (args.length !== 8) return perm("Usage: qm local -- user home local dash ext domain sender defaultdelivery", "5.3.5");
  if (args.some((a) => a.includes("\0"))) return perm("Argument contains NUL", "5.1.3");
  if (!args[1]!.startsWith("/")) return perm("Home directory must be an absolute path", "5.3.5");
  return ok(undefined);
}
