/**
 * The times --since and --until take (qm-stats(8)): an ISO 8601 date or
 * date and time, UTC unless it says otherwise ("2026-12-06",
 * "2026-12-06T14:00", "2026-12-06T14:00:00+01:00"), or a span back from
 * now: a number and s, m, h or d ("90m", "2d").
 */
const SPAN = /^(\d{1,9})([smhd])$/;
const UNIT = new Map([["s", 1000], ["m", 60_000], ["h", 3_600_000], ["d", 86_400_000]]);
const DATE = /^\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?)?(Z|[+-]\d\d:\d\d)?$/;

/** ms since 1970, or null when `text` is no such time. */
export function parseTime(text: string, now: number): number | null {
  const span = SPAN.exec(text);
  if (span) return now - Number(span[1]) * UNIT.get(span[2]!)!;
  const m = DATE.exec(text);
  if (!m) return null;
  const iso = text.replace(" ", "T");
  const ms = Date.parse(m[1] ? iso : iso.length === 10 ? `${iso}T00:00:00Z` : `${iso}Z`);
  return Number.isNaN(ms) ? null : ms;
}
