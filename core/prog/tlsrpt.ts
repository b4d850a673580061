/**
 * qm tlsrpt (qm-tlsrpt(8)): one UTC day's SMTP TLS reports (RFC 8460), one
 * per policy domain, from the records qm remote and qm rspawn appended to
 * queue/lock/tlsrpt/DAY (core/io/tls/rpt-store.ts). Each report goes to
 * standard output as one JSON line, or with `dir` into a file named as
 * RFC 8460 §5.3 says. Sending them to each domain's rua is the site's part.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readControlLine } from "../io/base/control.ts";
import { readRptDay, tlsRptDir } from "../io/tls/rpt-store.ts";
import { addRecord, dayOf, dayRange, newTally, reportFileName, tallyReport } from "../lib/tls/rpt.ts";
import { fromErrno } from "../io/base/errno.ts";
import { ok, perm, temp, type Result } from "../lib/base/result.ts";

export interface TlsrptOptions {
  /** "YYYY-MM-DD" (UTC); null: yesterday, the last whole day. */
  readonly date: string | null;
  /** Write one file a domain here instead of lines on `out`. */
  readonly dir: string | null;
  /** contact-info; null: postmaster@ME. */
  readonly contact: string | null;
  readonly now: number;
  readonly out: (text: string) => void;
  readonly warn: (line: string) => void;
}

export async function tlsrpt(home: string, o: TlsrptOptions): Promise<Result<{ reports: number }>> {
  const date = o.date ?? dayOf(o.now - 86_400_000);
  if (!dayRange(date)) return perm(`${date.slice(0, 40).replace(/[^\x20-\x7e]/g, "?")} is not a date (YYYY-MM-DD)`);
  const me = await readControlLine(home, "me", null);
  if (me.kind !== "ok") return me;
  if (!me.value) return temp("Unable to read control/me");
  const tally = newTally();
  const read = await readRptDay(tlsRptDir(home), date, (r) => addRecord(tally, r));
  if (read.kind === "error") return temp(`Unable to read the TLS-RPT records of ${date} (${read.reason})`);
  if (read.kind === "ok" && read.bad > 0) o.warn(`qm tlsrpt: warning: ${read.bad} line(s) of ${date} are not records; skipped`);
  if (tally.dropped > 0) o.warn(`qm tlsrpt: warning: ${tally.dropped} session(s) beyond the report's limits were not counted`);
  const start = dayRange(date)!.start / 1000;
  let n = 0;
  for (const domain of [...tally.domains.keys()].sort()) {
    const report = tallyReport(tally, domain, {
      organization: me.value, contact: o.contact ?? `postmaster@${me.value}`, reportId: `${date}.${domain}.${start}@${me.value}`, date,
    });
    if (!report) continue;
    const text = JSON.stringify(report);
    if (o.dir) {
      const name = reportFileName(me.value, domain, date);
      if (!name) continue;
      try {
        await writeFile(join(o.dir, name), `${text}\n`, { mode: 0o644 });
      } catch (err) {
        return fromErrno(err, `Unable to write ${name}`);
      }
      o.out(`${name}\n`);
    } else o.out(`${text}\n`);
    n++;
  }
  return ok({ reports: n });
}
