import { join } from "node:path";
import { createFrameReader, encodeFields } from "../lib/local-wire.ts";
import { MESSAGE, synthesizeReport, type MessageLetter, type Record } from "../lib/remote-report.ts";
import { deliverRemote, loadRemoteConfig, type RemoteConfig } from "../io/remote-delivery.ts";
import { openMessageFile } from "../io/remote-message.ts";
import { ownedTcpto, type Tcpto } from "../io/tcpto.ts";

// qm rspawn (qmail-rspawn, qmail.md §5.1): commands from qm send on stdin,
// K/Z/D reports on stdout. Every delivery runs in this one event loop, one
// recipient each; the report is built from qm remote's records exactly as
// qmail-rspawn builds it. This process is the only writer of queue/lock/tcpto.

type Report = { letter: MessageLetter; text: string };
const REPORT_MAX = 10000;

export async function rspawn(home: string, input: AsyncIterable<Uint8Array>, write: (b: Uint8Array) => void): Promise<void> {
  const cfg = await loadRemoteConfig(home);
  const tcpto = ownedTcpto(home);
  const reader = createFrameReader(4, { maxField: 4096 });
  const pending = new Set<Promise<void>>();
  const start = (fields: readonly string[]): void => {
    const slot = fields[0] ?? "";
    const p = deliver(home, cfg.kind === "ok" ? cfg.value : null, tcpto, fields)
      .catch((): Report => ({ letter: "Z", text: "qm rspawn: internal error in remote delivery. (#4.3.0)\n" }))
      .then((r) => write(encodeFields([slot, `${r.letter}${r.text.slice(0, REPORT_MAX)}`])))
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  for await (const chunk of input) {
    for (const ev of reader.push(chunk)) if (ev.kind === "frame") start(ev.frame.fields);
  }
  await Promise.all(pending);
  await tcpto.flush();
}

async function deliver(home: string, cfg: RemoteConfig | null, tcpto: Tcpto, fields: readonly string[]): Promise<Report> {
  const [slot = "", path = "", sender = "", rcpt = ""] = fields;
  if (!/^\d{1,9}$/.test(slot)) return { letter: "Z", text: "Bad slot number. (#4.3.0)\n" };
  const at = rcpt.lastIndexOf("@");
  if (at < 0 || at === rcpt.length - 1) return { letter: "D", text: "Sorry, address must include host name. (#5.1.3)\n" };
  if (!cfg) return synthesizeReport([MESSAGE.control]);
  const messDir = join(home, "queue", "mess") + "/";
  if (!path.startsWith(messDir) || path.includes("/../")) return { letter: "Z", text: "Message path is not in the queue. (#4.3.0)\n" };
  const msg = await openMessageFile(path);
  if (msg.kind !== "ok") return { letter: "Z", text: "Unable to open message file. (#4.3.0)\n" };
  let records: Record[];
  try {
    records = await deliverRemote(cfg, tcpto, rcpt.slice(at + 1), {
      helo: cfg.helo,
      sender,
      recipients: [rcpt],
      message: msg.value.chunks,
      size: msg.value.size,
    });
  } finally {
    await msg.value.close();
  }
  return synthesizeReport(records);
}
