import { formatRecord, MESSAGE, type Record } from "../lib/remote/report.ts";
import { deliverRemote, loadRemoteConfig } from "../io/remote/delivery.ts";
import { stdinMessage } from "../io/remote/message.ts";
import { readOnlyTcpto, readTcpto } from "../io/remote/tcpto.ts";
import { loadDkimSigner } from "../io/dkim/signer.ts";
import { describe } from "../lib/base/result.ts";

// qm remote HOST SENDER RECIPIENT... (qmail-remote(8)): the message on fd 0,
// one r/h/s record per recipient then one K/Z/D record on `out`, each ending
// in NUL. It always finishes normally: the outcome is in the records.

export async function remote(home: string, argv: readonly string[], out: (record: string) => void): Promise<void> {
  const emit = (records: readonly Record[]) => out(records.map(formatRecord).join(""));
  const [host, sender, ...recipients] = argv;
  if (host === undefined || sender === undefined || recipients.length === 0 || host === "") return emit([MESSAGE.usage]);
  const cfg = await loadRemoteConfig(home);
  if (cfg.kind !== "ok") return emit([MESSAGE.control]);
  const tcpto = readOnlyTcpto(await readTcpto(home));
  const dkim = await loadDkimSigner(home);
  const signed = dkim.kind !== "ok" ? dkim : dkim.value ? await dkim.value.sign(stdinMessage()) : null;
  if (signed && signed.kind !== "ok") return emit([{ letter: "Z", text: `${describe(signed)}\n` }]);
  const message = signed ? signed.value : stdinMessage();
  const records = await deliverRemote(cfg.value, tcpto, host, {
    helo: cfg.value.helo,
    sender,
    recipients,
    message: message.chunks,
    size: message.size,
  });
  emit(records);
}
