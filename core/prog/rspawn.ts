import { join } from "node:path";
import { createFrameReader, encodeFields } from "../lib/local/wire.ts";
import { MESSAGE, synthesizeReport, type MessageLetter, type Record } from "../lib/remote/report.ts";
import { deliverRemote, loadRemoteConfig, type RemoteConfig } from "../io/remote/delivery.ts";
import { openMessageFile } from "../io/remote/message.ts";
import { ConnPool } from "../io/remote/smtp-pool.ts";
import { ownedTcpto, type Tcpto } from "../io/remote/tcpto.ts";

// qm rspawn (qmail-rspawn, docs/qmail.md §5.1): commands from qm send on stdin,
// K/Z/D reports on stdout. Every delivery runs in this one event loop; the
// report is built from qm remote's records exactly as qmail-rspawn builds
// it. This process is the only writer of queue/lock/tcpto.
//
// Commands that arrive together for the same message, sender and domain
// (qm send starts a message's recipients back to back) share one SMTP
// transaction, one RCPT each, as qmail-remote does for a recipient list:
// each slot gets its own recipient record with the message record. A
// connection whose transaction went through waits a moment for the next
// message to the same address (core/io/remote/smtp-pool.ts).

type Report = { letter: MessageLetter; text: string };
type Job = { readonly slot: string; readonly rcpt: string };
const REPORT_MAX = 10000;
/** Recipients per shared transaction; RFC 5321 servers take at least 100. */
export const BATCH_MAX = 50;

export async function rspawn(home: string, input: AsyncIterable<Uint8Array>, write: (b: Uint8Array) => void): Promise<void> {
  const cfg = await loadRemoteConfig(home);
  const tcpto = ownedTcpto(home);
  const pool = new ConnPool();
  const reader = createFrameReader(4, { maxField: 4096 });
  const pending = new Set<Promise<void>>();
  const reply = (slot: string, r: Report): void => write(encodeFields([slot, `${r.letter}${r.text.slice(0, REPORT_MAX)}`]));
  const start = (path: string, sender: string, jobs: readonly Job[]): void => {
    const p = deliverGroup(home, cfg.kind === "ok" ? cfg.value : null, tcpto, pool, path, sender, jobs)
      .catch((): Report[] => jobs.map(() => ({ letter: "Z", text: "qm rspawn: internal error in remote delivery. (#4.3.0)\n" })))
      .then((reports) => jobs.forEach((j, i) => reply(j.slot, reports[i]!)))
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  for await (const chunk of input) {
    const groups = new Map<string, { path: string; sender: string; jobs: Job[] }>();
    for (const ev of reader.push(chunk)) {
      if (ev.kind !== "frame") continue;
      const [slot = "", path = "", sender = "", rcpt = ""] = ev.frame.fields;
      const refused = check(slot, rcpt);
      if (refused) {
        reply(slot, refused);
        continue;
      }
      const key = `${path}\0${sender}\0${rcpt.slice(rcpt.lastIndexOf("@") + 1).toLowerCase()}`;
      const g = groups.get(key) ?? { path, sender, jobs: [] };
      groups.set(key, g);
      g.jobs.push({ slot, rcpt });
      if (g.jobs.length >= BATCH_MAX) {
        start(path, sender, g.jobs);
        groups.delete(key);
      }
    }
    for (const g of groups.values()) start(g.path, g.sender, g.jobs);
  }
  await Promise.all(pending);
  pool.closeAll();
  await tcpto.flush();
}

function check(slot: string, rcpt: string): Report | null {
  if (!/^\d{1,9}$/.test(slot)) return { letter: "Z", text: "Bad slot number. (#4.3.0)\n" };
  const at = rcpt.lastIndexOf("@");
  if (at < 0 || at === rcpt.length - 1) return { letter: "D", text: "Sorry, address must include host name. (#5.1.3)\n" };
  return null;
}

/** One transaction for jobs of the same message, sender and domain; a report per job, in order. */
async function deliverGroup(home: string, cfg: RemoteConfig | null, tcpto: Tcpto, pool: ConnPool, path: string, sender: string, jobs: readonly Job[]): Promise<Report[]> {
  const all = (r: Report): Report[] => jobs.map(() => r);
  if (!cfg) return all(synthesizeReport([MESSAGE.control]));
  const messDir = join(home, "queue", "mess") + "/";
  if (!path.startsWith(messDir) || path.includes("/../")) return all({ letter: "Z", text: "Message path is not in the queue. (#4.3.0)\n" });
  const msg = await openMessageFile(path);
  if (msg.kind !== "ok") return all({ letter: "Z", text: "Unable to open message file. (#4.3.0)\n" });
  const rcpts = jobs.map((j) => j.rcpt);
  let records: Record[];
  try {
    records = await deliverRemote(cfg, tcpto, rcpts[0]!.slice(rcpts[0]!.lastIndexOf("@") + 1), {
      helo: cfg.helo,
      sender,
      recipients: rcpts,
      message: msg.value.chunks,
      size: msg.value.size,
    }, pool);
  } finally {
    await msg.value.close();
  }
  return jobs.map((_, i) => synthesizeReport(recordsFor(records, i, jobs.length)));
}

/**
 * qm remote's records for recipient i of n: its own r/h/s record (when the
 * conversation got that far) and the message record. A transaction that
 * ended before the recipients has only the message record, shared by all.
 */
export function recordsFor(records: readonly Record[], i: number, n: number): Record[] {
  const last = records.at(-1);
  const message = last && "KZD".includes(last.letter) ? last : null;
  const perRcpt = message ? records.slice(0, -1) : records;
  const own = perRcpt.length === n || (i < perRcpt.length && perRcpt.every((r) => "rhs".includes(r.letter))) ? perRcpt[i] : undefined;
  return [...(own ? [own] : []), ...(message ? [message] : [])];
}
