import { createReadStream, constants } from "node:fs";
import { open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { decodeEnvelope, type Envelope } from "../lib/queue/envelope.ts";
import { maildropDir } from "../lib/queue/layout.ts";
import { QQ } from "../lib/queue/codes.ts";
import { enqueue } from "../io/queue/enqueue.ts";
import { maildrop, writesQueue } from "../io/queue/submit.ts";
import { isQmqpClient, runQmqpClient } from "../io/qmqp/client.ts";

const MAX_ENVELOPE = 100 * 1024 * 1024; // bytes read from fd 1 before giving up with 91

/**
 * `qm queue`: qmail-queue(8). The message on fd 0 first, then the envelope on
 * fd 1; returns qmail-queue's exit code (0 queued, 11–40 permanent, else temporary).
 */
export async function runQueue(home: string, message: AsyncIterable<Uint8Array>, envelopeFd: number): Promise<number> {
  if (await isQmqpClient(home)) return runQmqpClient(home, message, () => readEnvelope(envelopeFd)); // mini-qmail (issue 9)
  if (writesQueue(home)) {
    const r = await enqueue(home, message, () => readEnvelope(envelopeFd), { blocking: true }); // one message, then exit
    return r.code;
  }
  return viaMaildrop(home, message, envelopeFd);
}

async function readEnvelope(fd: number): Promise<Envelope | { code: number; reason: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of createReadStream("", { fd, autoClose: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ENVELOPE) return { code: QQ.envelopeFormat, reason: "envelope too large" };
      chunks.push(chunk);
    }
  } catch (err) {
    return { code: QQ.readError, reason: `unable to read envelope: ${String(err)}` };
  }
  const env = decodeEnvelope(Buffer.concat(chunks));
  if (env.kind === "ok") return env.value;
  const code = env.kind === "perm" ? QQ.addressTooLong : env.reason.includes("early") ? QQ.readError : QQ.envelopeFormat;
  return { code, reason: env.reason };
}

/** Not allowed to write the queue: spool the message (it comes first), read the envelope, then hand both to maildrop/. */
async function viaMaildrop(home: string, message: AsyncIterable<Uint8Array>, envelopeFd: number): Promise<number> {
  const spool = join(maildropDir(home), `.spool.${process.pid}.${Date.now()}`);
  try {
    const fh = await open(spool, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      for await (const chunk of message) await fh.write(chunk);
    } finally {
      await fh.close();
    }
    const env = await readEnvelope(envelopeFd);
    if ("code" in env) return env.code;
    const r = await maildrop(home, createReadStream(spool), env);
    return r.kind === "ok" ? 0 : QQ.writeError;
  } catch {
    return QQ.writeError;
  } finally {
    await unlink(spool).catch(() => {});
  }
}
