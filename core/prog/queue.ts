import { createReadStream } from "node:fs";
import { readEnvelope, type ChunkSource, type Envelope } from "../lib/queue/envelope.ts";
import { QQ, queueFail, type QueueResult } from "../lib/queue/codes.ts";
import { errText } from "../io/base/errno.ts";
import { enqueue, pullTrigger } from "../io/queue/enqueue.ts";
import { writeMaildrop } from "../io/queue/maildrop.ts";
import { writesQueue } from "../io/queue/submit.ts";
import { isQmqpClient, runQmqpClient } from "../io/qmqp/client.ts";

const MAX_ENVELOPE = 100 * 1024 * 1024; // bytes read from fd 1 before giving up with 91

/**
 * `qm queue`: qmail-queue(8). The message on fd 0 first, then the envelope on
 * fd 1; returns qmail-queue's exit code (0 queued, 11–40 permanent, else
 * temporary). Not allowed to write the queue, it writes maildrop/ instead:
 * the maildrop file holds the message before the envelope, so nothing is
 * spooled on the way.
 */
export async function runQueue(home: string, message: AsyncIterable<Uint8Array>, envelopeFd: number): Promise<number> {
  const envelope = () => envelopeFrom(envelopeFd);
  if (await isQmqpClient(home)) return runQmqpClient(home, message, envelope); // mini-qmail (issue 9)
  if (writesQueue(home)) {
    const r = await enqueue(home, message, envelope, { blocking: true }); // one message, then exit
    return r.kind === "ok" ? 0 : r.code;
  }
  const r = await writeMaildrop(home, message, envelope, { blocking: true });
  if (r.kind !== "ok") return r.code;
  await pullTrigger(home);
  return 0;
}

/** fd 1 through the one envelope reader (core/lib/queue/envelope.ts); anything after the envelope is 91. */
async function envelopeFrom(fd: number): Promise<QueueResult<Envelope>> {
  const it = (createReadStream("", { fd, autoClose: false }) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const next: ChunkSource = async () => {
    const n = await it.next();
    return n.done ? null : n.value;
  };
  try {
    const r = await readEnvelope(next, MAX_ENVELOPE);
    if (r.kind !== "ok") return r;
    if (r.value.rest.length > 0 || (await next()) !== null) return queueFail(QQ.envelopeFormat, "bytes after the envelope");
    return { kind: "ok", value: r.value.envelope };
  } catch (err) {
    return queueFail(QQ.readError, `unable to read envelope: ${errText(err)}`);
  }
}
