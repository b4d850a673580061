/**
 * qm stats (qm-stats(8)): reads qm's logs (qm-log(5)) and reports the mail
 * flow: as text, as JSON (--json), or as a page with charts (--html FILE).
 */
import { readLogs } from "../io/stats/log-files.ts";
import { loadUplot, writePage } from "../io/stats/page.ts";
import { parseLine } from "../lib/stats/line.ts";
import { addEvent, newTally } from "../lib/stats/tally.ts";
import { makeReport, type Report } from "../lib/stats/report.ts";
import { formatReport } from "../lib/stats/format.ts";
import { renderHtml } from "../lib/stats/html.ts";
import { parseTime } from "../lib/stats/time.ts";
import { ok, perm, type Result } from "../lib/base/result.ts";

export interface StatsOptions {
  readonly paths: readonly string[];
  readonly json?: boolean;
  readonly html?: string | null;
  readonly since?: string | null;
  readonly until?: string | null;
  readonly top?: number;
  readonly now: number;
  readonly out: (text: string) => void;
}

export async function stats(o: StatsOptions): Promise<Result<Report>> {
  const window: { since: number | null; until: number | null } = { since: null, until: null };
  for (const key of ["since", "until"] as const) {
    const text = o[key];
    if (text === undefined || text === null) continue;
    const ms = parseTime(text, o.now);
    if (ms === null) return perm(`--${key} takes a date (2026-12-06, 2026-12-06T14:00) or a span back from now (90m, 2d), not ${text.slice(0, 100)}`, "5.3.5");
    window[key] = ms;
  }
  const year = new Date(o.now).getUTCFullYear();
  const tally = newTally(window);
  const cache = { key: "", ms: 0 };
  const read = await readLogs(o.paths, year, (line) => {
    const l = parseLine(line, year, cache);
    addEvent(tally, l.event, l.ms);
  });
  if (read.kind !== "ok") return read;
  const report = makeReport(tally, { top: o.top });
  if (o.html) {
    const written = await writePage(o.html, renderHtml(report, await loadUplot()));
    if (written.kind !== "ok") return written;
  }
  if (o.json) o.out(`${JSON.stringify(report, null, 1)}\n`);
  else if (!o.html) o.out(formatReport(report));
  return ok(report);
}
