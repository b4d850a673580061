import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { lockFile } from "../../lib/queue/layout.ts";
import { dayOf, formatRptRecord, parseRptRecord, RPT_LINE_MAX, type RptRecord } from "../../lib/tls/rpt.ts";
import { isMissing } from "../base/errno.ts";

// TLS-RPT's store (RFC 8460): queue/lock/tlsrpt/YYYY-MM-DD, one JSON line
// per SMTP session, appended by qm remote and qm rspawn as the remote user
// (qmailr; qm init makes the directory theirs, mode 0700, and each file is
// made 0600). One write(2) of at most RPT_LINE_MAX bytes with O_APPEND, so
// lines from concurrent deliveries do not mix. A record that cannot be
// written is lost, never a reason to defer mail. `qm tlsrpt` reads it.
// Run by root (a `qm remote` by hand), a new day's file is given to the
// directory's owner, so that the remote user can go on appending to it.

export function tlsRptDir(home: string): string {
  return lockFile(home, "tlsrpt");
}

export async function appendRpt(dir: string, r: RptRecord): Promise<boolean> {
  const line = formatRptRecord(r);
  if (line === null) return false;
  try {
    const fh = await open(join(dir, dayOf(r.time)), "a", 0o600);
    try {
      if (process.geteuid?.() === 0) {
        const [d, f] = [await stat(dir), await fh.stat()];
        if (f.uid !== d.uid || f.gid !== d.gid) await fh.chown(d.uid, d.gid);
      }
      await fh.write(line);
    } finally {
      await fh.close();
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Every record of one day, streamed to `each`; how many lines were not
 * records (torn, too long, foreign). "missing" when the day has no file.
 */
export async function readRptDay(dir: string, date: string, each: (r: RptRecord) => void): Promise<{ kind: "ok"; bad: number } | { kind: "missing" } | { kind: "error"; reason: string }> {
  const stream = createReadStream(join(dir, date), { encoding: "latin1", highWaterMark: 64 * 1024 });
  let rest = "";
  let bad = 0;
  const take = (line: string) => {
    if (line === "") return;
    const r = parseRptRecord(line);
    if (r) each(r);
    else bad++;
  };
  let skipping = false;
  try {
    for await (const chunk of stream) {
      let text = chunk as string;
      if (skipping) {
        const nl = text.indexOf("\n");
        if (nl < 0) continue;
        [text, skipping] = [text.slice(nl + 1), false];
      }
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      for (const l of lines) take(l);
      if (rest.length > RPT_LINE_MAX) {
        // longer than any record: skip to its end
        [bad, rest, skipping] = [bad + 1, "", true];
      }
    }
    take(rest);
    return { kind: "ok", bad };
  } catch (err) {
    if (isMissing(err)) return { kind: "missing" };
    return { kind: "error", reason: (err as NodeJS.ErrnoException).code ?? "error" };
  }
}
