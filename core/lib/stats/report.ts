/**
 * What `qm stats` reports, made from a tally (tally.ts): plain data, the same
 * for the text report, --json and the HTML page.
 */
import type { Outcome } from "./line.ts";
import type { Channel, Tally } from "./tally.ts";

export interface Delay { readonly count: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number }
export interface DomainRow { readonly domain: string; readonly success: number; readonly deferral: number; readonly failure: number; readonly mangled: number; readonly reasons: readonly { readonly reason: string; readonly count: number }[] }
export interface Counted { readonly key: string; readonly count: number }
export interface Report {
  readonly from: string | null; // ISO times of the first and last line counted
  readonly until: string | null;
  readonly lines: number;
  readonly events: number;
  readonly messages: { readonly in: number; readonly out: number; readonly bounces: number; readonly bytes: number };
  readonly recipients: number;
  readonly deliveries: Record<Channel, Record<Outcome, number>>;
  readonly delay: Record<Channel, Delay>;
  readonly domains: readonly DomainRow[];
  readonly sources: { readonly smtp: readonly Counted[]; readonly users: readonly Counted[]; readonly auth: readonly Counted[] };
  readonly smtp: { readonly sessions: number; readonly tls: number; readonly tlsShare: number; readonly authFailed: number; readonly accepted: number; readonly rejects: readonly Counted[] };
  /** per step of `step` minutes from `start` (ms): messages in and out, the most queued */
  readonly series: { readonly start: number; readonly step: number; readonly in: readonly number[]; readonly out: readonly number[]; readonly queue: readonly number[] };
  /** final deliveries by delay: counts[i] took at most bounds[i] seconds (the last bound is Infinity, as null in JSON) */
  readonly histogram: { readonly bounds: readonly (number | null)[]; readonly counts: readonly number[] };
}

/** Most points a series gets: a longer log is shown in wider steps. */
export const MAX_POINTS = 1440;
const STEPS = [1, 5, 15, 60, 360, 1440, 10080];
export const DELAY_BOUNDS = [1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 86400, Infinity];

/** The nearest-rank percentile of sorted numbers (0 for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

function delay(values: number[]): Delay {
  const s = Float64Array.from(values).sort();
  const a = Array.from(s);
  return { count: a.length, p50: percentile(a, 50), p90: percentile(a, 90), p99: percentile(a, 99), max: a.length ? a[a.length - 1]! : 0 };
}

function top(map: Map<string, number>, n: number): Counted[] {
  return [...map].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1)).slice(0, n);
}

function series(t: Tally): Report["series"] {
  if (t.minutes.size === 0) return { start: 0, step: 1, in: [], out: [], queue: [] };
  const keys = [...t.minutes.keys()];
  const lo = keys.reduce((a, b) => Math.min(a, b));
  const hi = keys.reduce((a, b) => Math.max(a, b));
  const step = STEPS.find((s) => (hi - lo) / s < MAX_POINTS) ?? Math.ceil((hi - lo + 1) / MAX_POINTS);
  const n = Math.floor((hi - lo) / step) + 1;
  const inn = new Array<number>(n).fill(0);
  const out = new Array<number>(n).fill(0);
  const queue = new Array<number>(n).fill(-1);
  for (const [m, row] of t.minutes) {
    const i = Math.floor((m - lo) / step);
    inn[i]! += row.in;
    out[i]! += row.out;
    queue[i] = Math.max(queue[i]!, row.queue);
  }
  for (let i = 0; i < n; i++) if (queue[i]! < 0) queue[i] = i > 0 ? queue[i - 1]! : 0; // nothing happened: as before
  return { start: lo * 60_000, step, in: inn, out, queue };
}

function histogram(t: Tally): Report["histogram"] {
  const counts = DELAY_BOUNDS.map(() => 0);
  for (const d of [...t.delays.local, ...t.delays.remote]) counts[DELAY_BOUNDS.findIndex((b) => d <= b)]!++;
  return { bounds: DELAY_BOUNDS.map((b) => (Number.isFinite(b) ? b : null)), counts };
}

export function makeReport(t: Tally, opts: { top?: number } = {}): Report {
  const n = opts.top ?? 20;
  const domains = [...t.domains].map(([domain, c]) => ({
    domain, success: c.success, deferral: c.deferral, failure: c.failure, mangled: c.mangled,
    reasons: top(c.reasons, 5).map((r) => ({ reason: r.key, count: r.count })),
  })).sort((a, b) => b.success + b.deferral + b.failure + b.mangled - (a.success + a.deferral + a.failure + a.mangled) || (a.domain < b.domain ? -1 : 1));
  return {
    from: t.first === null ? null : new Date(t.first).toISOString(),
    until: t.end === null ? null : new Date(t.end).toISOString(),
    lines: t.lines, events: t.counted,
    messages: { in: t.in.messages, out: t.out, bounces: t.in.bounces, bytes: t.in.bytes },
    recipients: t.in.recipients,
    deliveries: { local: { ...t.outcomes.local }, remote: { ...t.outcomes.remote } },
    delay: { local: delay(t.delays.local), remote: delay(t.delays.remote) },
    domains: domains.slice(0, n),
    sources: { smtp: top(t.clients, n), users: top(t.users, n), auth: top(t.authUsers, n) },
    smtp: { ...t.smtp, tlsShare: t.smtp.sessions ? t.smtp.tls / t.smtp.sessions : 0, rejects: top(t.rejects, n) },
    series: series(t),
    histogram: histogram(t),
  };
}
