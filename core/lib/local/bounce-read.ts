/**
 * Reading a bounce that came back to a VERP address (qm-bounce-read(8)):
 * which recipients failed, from an RFC 3464 report, qmail's QSBMF text, or
 * else only the address the VERP return path names. Bounded before any
 * parsing: the caller passes at most MAX_BOUNCE bytes; MIME is walked at most
 * MAX_DEPTH levels and MAX_PARTS parts deep, and at most MAX_RECIPIENTS are
 * reported. Pure; bytes are one char each (bytes.ts).
 */

export const MAX_BOUNCE = 1 << 20;
export const MAX_DEPTH = 4;
export const MAX_PARTS = 50;
export const MAX_RECIPIENTS = 100;

export interface Failed {
  readonly addr: string;
  readonly action: string;
  readonly status: string;
}
export interface BounceReport {
  /** How the recipients were found. */
  readonly via: "rfc3464" | "qsbmf" | "verp" | "none";
  readonly failed: readonly Failed[];
}

/** "joe=x.test" (the extension a VERP return path carries) back to "joe@x.test"; null when it holds no "=". */
export function verpRecipient(ext: string): string | null {
  const eq = ext.lastIndexOf("=");
  if (eq < 1 || eq === ext.length - 1) return null;
  return `${ext.slice(0, eq)}@${ext.slice(eq + 1)}`;
}

interface Part {
  readonly header: Map<string, string>;
  readonly body: string;
}

/** A header block into lower-cased names and unfolded values (the first of each name); the body after the blank line. */
function splitPart(text: string): Part {
  const t = text.replace(/\r\n/g, "\n");
  const end = t.startsWith("\n") ? 0 : t.indexOf("\n\n");
  const head = end < 0 ? t : t.slice(0, end);
  const header = new Map<string, string>();
  for (const field of head.replace(/\n[ \t]+/g, " ").split("\n")) {
    const colon = field.indexOf(":");
    if (colon < 1) continue;
    const name = field.slice(0, colon).trim().toLowerCase();
    if (!header.has(name)) header.set(name, field.slice(colon + 1).trim());
  }
  return { header, body: end < 0 ? "" : t.slice(end + 2) };
}

function contentType(p: Part): { type: string; boundary: string | null } {
  const v = p.header.get("content-type") ?? "text/plain";
  const type = (v.split(";")[0] ?? "").trim().toLowerCase();
  const b = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(v);
  return { type, boundary: b ? (b[1] ?? b[2] ?? null) : null };
}

/** Every leaf part, depth first, within MAX_DEPTH and MAX_PARTS. */
function leaves(root: Part): Part[] {
  const out: Part[] = [];
  let seen = 0;
  const walk = (p: Part, depth: number): void => {
    if (++seen > MAX_PARTS) return;
    const ct = contentType(p);
    if (!ct.type.startsWith("multipart/") || !ct.boundary || depth >= MAX_DEPTH) return void out.push(p);
    const delim = `--${ct.boundary}`;
    const chunks = `\n${p.body}`.split(`\n${delim}`);
    for (const c of chunks.slice(1)) {
      if (c.startsWith("--")) break;
      if (seen >= MAX_PARTS) break;
      walk(splitPart(c.slice(c.indexOf("\n") + 1)), depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/** The per-recipient blocks of a message/delivery-status part with Action failed. */
function fromDeliveryStatus(body: string): Failed[] {
  const out: Failed[] = [];
  const blocks = body.replace(/\r\n/g, "\n").split(/\n\s*\n/).slice(1);
  for (const b of blocks) {
    const f = splitPart(`${b}\n\n`).header;
    const rcpt = f.get("final-recipient") ?? f.get("original-recipient");
    const action = (f.get("action") ?? "").toLowerCase();
    if (!rcpt || action !== "failed") continue;
    const semi = rcpt.indexOf(";");
    out.push({ addr: (semi < 0 ? rcpt : rcpt.slice(semi + 1)).trim().replace(/^<|>$/g, ""), action, status: (f.get("status") ?? "").split(/\s/)[0] ?? "" });
  }
  return out;
}

/** QSBMF (qmail's bounce text): the paragraphs between "Hi. This is the" and the break line. */
function fromQsbmf(text: string): Failed[] | null {
  const t = text.replace(/\r\n/g, "\n");
  const start = t.indexOf("Hi. This is the");
  if (start < 0) return null;
  const out: Failed[] = [];
  for (const para of t.slice(start).split("\n\n").slice(1)) {
    if (para.startsWith("-")) break;
    const nl = para.indexOf("\n");
    const first = nl < 0 ? para : para.slice(0, nl);
    if (!/^<?[^\s<>]+>?:$/.test(first)) continue;
    const code = /\(#(5\.\d{1,3}\.\d{1,3})\)|\b(5\.\d{1,3}\.\d{1,3})\b/.exec(para);
    out.push({ addr: first.slice(0, -1).replace(/^<|>$/g, ""), action: "failed", status: code ? (code[1] ?? code[2]!) : "5.0.0" });
  }
  return out;
}

const printable = (s: string): string => s.replace(/[^\x21-\x7e]/g, "?").slice(0, 200);

/**
 * What the bounce says failed: the RFC 3464 report's failed recipients,
 * else the QSBMF paragraphs, else (any other form) the VERP recipient with
 * status 5.0.0; a bounce that names no recipient and has no VERP address is
 * "none". Addresses and statuses come back printable, each at most 200 bytes.
 */
export function readBounce(message: string, verp: string | null): BounceReport {
  const root = splitPart(message.slice(0, MAX_BOUNCE));
  const parts = leaves(root);
  const ds = parts.filter((p) => contentType(p).type === "message/delivery-status");
  const clean = (xs: Failed[]): Failed[] => xs.slice(0, MAX_RECIPIENTS).map((x) => ({ addr: printable(x.addr), action: x.action, status: printable(x.status) || "5.0.0" }));
  if (ds.length > 0) {
    const failed = ds.flatMap((p) => fromDeliveryStatus(p.body));
    if (failed.length > 0) return { via: "rfc3464", failed: clean(failed) };
  }
  for (const p of parts) {
    if (!contentType(p).type.startsWith("text/")) continue;
    const q = fromQsbmf(p.body);
    if (q && q.length > 0) return { via: "qsbmf", failed: clean(q) };
  }
  if (verp) return { via: "verp", failed: clean([{ addr: verp, action: "failed", status: "5.0.0" }]) };
  return { via: "none", failed: [] };
}
