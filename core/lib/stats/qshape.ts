/**
 * `qm qshape` (qm-qshape(8)): the queue as Postfix's qshape shows it, a table
 * of domains (rows, the busiest first, after a TOTAL row) by age (columns).
 * Age buckets: `count` of them, each `minutes` wide on the first; geometric
 * (each twice the one before) or linear (-l), the last open-ended ("1280+").
 * A message counts once for each pending recipient (by the recipient's
 * domain), or with -s once (by its sender's domain; "MAILER-DAEMON" for <>).
 */
import { scanOptions } from "../base/getopt.ts";
import { ok, perm, type Result } from "../base/result.ts";

export interface ShapeItem {
  /** minutes in the queue */
  readonly age: number;
  readonly domain: string;
}

export interface ShapeOptions {
  readonly minutes: number;
  readonly count: number;
  readonly linear: boolean;
}

export const SHAPE_DEFAULTS: ShapeOptions = { minutes: 5, count: 10, linear: false };

/** The upper bounds in minutes of the first count-1 buckets; the last has none. */
export function bucketBounds(o: ShapeOptions): number[] {
  const b: number[] = [];
  for (let i = 0; i < o.count - 1; i++) b.push(o.linear ? o.minutes * (i + 1) : o.minutes * 2 ** i);
  return b;
}

/** The domain of an address for qshape: lower case after the last "@"; the sender <> is MAILER-DAEMON. */
export function shapeDomain(addr: string, sender = false): string {
  if (sender && (addr === "" || addr === "#@[]")) return "MAILER-DAEMON";
  const at = addr.lastIndexOf("@");
  return at < 0 ? addr.toLowerCase() || "(none)" : addr.slice(at + 1).toLowerCase() || "(none)";
}

export function shapeTable(items: readonly ShapeItem[], o: ShapeOptions): { readonly header: string[]; readonly rows: [string, ...number[]][] } {
  const bounds = bucketBounds(o);
  const rows = new Map<string, number[]>();
  const total = new Array<number>(o.count + 1).fill(0);
  for (const it of items) {
    let b = bounds.findIndex((x) => it.age <= x);
    if (b < 0) b = bounds.length;
    let row = rows.get(it.domain);
    if (!row) rows.set(it.domain, (row = new Array<number>(o.count + 1).fill(0)));
    for (const r of [row, total]) {
      r[0]!++;
      r[b + 1]!++;
    }
  }
  const sorted = [...rows].sort((a, b) => b[1][0]! - a[1][0]! || (a[0] < b[0] ? -1 : 1));
  const last = bounds.length ? `${bounds[bounds.length - 1]}+` : "0+";
  return { header: ["T", ...bounds.map(String), last], rows: [["TOTAL", ...total], ...sorted.map(([d, r]): [string, ...number[]] => [d, ...r])] };
}

/** The table as text: domains right-aligned in the first column, every count right-aligned under its header. */
export function formatShape(items: readonly ShapeItem[], o: ShapeOptions): string {
  const { header, rows } = shapeTable(items, o);
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i + 1]).length)));
  const name = Math.max(5, ...rows.map((r) => r[0].length));
  const line = (first: string, cells: readonly (string | number)[]) => `${first.padStart(name)} ${cells.map((c, i) => String(c).padStart(width[i]!)).join(" ")}\n`;
  return line("", header) + rows.map((r) => line(r[0], r.slice(1) as number[])).join("");
}

export type ShapeChannel = "todo" | "local" | "remote";
const CHANNELS: readonly ShapeChannel[] = ["todo", "local", "remote"];
/** Limits on -t and -b: a bucket of at most a year, at most 30 buckets (2^29 × 5 minutes is already ~5000 years). */
export const MAX_MINUTES = 525_600;
export const MAX_BUCKETS = 30;

/** qm qshape's command line: [-s] [-l] [-t minutes] [-b count] [todo|local|remote ...] (all three when none). */
export function parseShapeArgs(argv: readonly string[]): Result<ShapeOptions & { senders: boolean; channels: Set<ShapeChannel> }> {
  let o = { ...SHAPE_DEFAULTS, senders: false };
  const number = (flag: string, text: string | undefined, max: number): Result<number> => {
    const n = Number(text);
    return text !== undefined && /^\d+$/.test(text) && n >= 1 && n <= max ? ok(n) : perm(`${flag} takes a whole number from 1 to ${max}, not ${String(text).slice(0, 40)}`, "5.3.5");
  };
  const start = scanOptions(argv, (arg, next) => {
    if (arg === "-s" || arg === "-l") return (o = arg === "-s" ? { ...o, senders: true } : { ...o, linear: true }), ok(0);
    const flag = arg.slice(0, 2);
    if (flag !== "-t" && flag !== "-b") return perm(`unknown option ${arg.slice(0, 40)}`, "5.3.5");
    const inline = arg.length > 2 ? arg.slice(2) : undefined;
    const n = number(flag, inline ?? next, flag === "-t" ? MAX_MINUTES : MAX_BUCKETS);
    if (n.kind !== "ok") return n;
    o = flag === "-t" ? { ...o, minutes: n.value } : { ...o, count: n.value };
    return ok(inline === undefined ? 1 : 0);
  });
  if (start.kind !== "ok") return start;
  const names = argv.slice(start.value);
  const bad = names.find((n) => !(CHANNELS as readonly string[]).includes(n));
  if (bad !== undefined) return perm(`qm qshape takes the channels ${CHANNELS.join(", ")}, not ${bad.slice(0, 40)}`, "5.3.5");
  return ok({ ...o, channels: new Set(names.length ? (names as ShapeChannel[]) : CHANNELS) });
}
