/**
 * A bounce or other notice into the queue (docs/qmail.md §2.8, §2.9): the head the
 * queue manager built (core/lib/send/notice.ts buildNotice()), the original
 * mess file (cut to control/bouncemaxbytes, or its header only), and the
 * tail, put into the queue through submit() as "for bounce". Reading
 * and removing bounce/<id> is the queue manager's, around this.
 */
import { createReadStream } from "node:fs";
import { toBytes } from "../../lib/base/bytes.ts";
import type { Result } from "../../lib/base/result.ts";
import type { Envelope } from "../../lib/queue/envelope.ts";
import { submit } from "./submit.ts";
import { originalCutter } from "../../lib/queue/bounce-cut.ts";

export interface Bounce {
  /** bounceHead()'s text, up to and including Return-Path. */
  readonly head: string;
  /** The original message's mess file. */
  readonly mess: string;
  readonly envelope: Envelope;
  /** control/bouncemaxbytes: how much of the original's header, then body, is quoted. */
  readonly maxBytes: number;
  /** What follows the original (an RFC 3464 report's closing boundary); none for a plain QSBMF bounce. */
  readonly tail?: string;
  /** Quote only the original's header (RET=HDRS, delay and success notices). */
  readonly headersOnly?: boolean;
}

/** Queues head + the mess file; a failure (the mess file unreadable, the queue refusing) is returned. */
export async function submitBounce(home: string, b: Bounce, env?: NodeJS.ProcessEnv): Promise<Result<{ qp: number }>> {
  const head = toBytes(b.head);
  async function* body(): AsyncIterable<Uint8Array> {
    yield head;
    const cutter = originalCutter(b.maxBytes, { headersOnly: b.headersOnly ?? false });
    for await (const chunk of createReadStream(b.mess)) {
      yield* cutter.feed(chunk as Uint8Array);
      if (cutter.done) break; // the rest of the body is not read
    }
    if (!cutter.done) yield* cutter.end();
    if (b.tail) yield toBytes(b.tail);
  }
  return submit(home, body(), b.envelope, { who: { kind: "bounce" }, env });
}
