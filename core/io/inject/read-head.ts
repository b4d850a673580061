import { fromBytes } from "../../lib/base/bytes.ts";
import { MAX_HEADER, scanHeader } from "../../lib/base/header.ts";
import { ok, perm, type Result } from "../../lib/base/result.ts";
import { fromErrno } from "../base/errno.ts";

export interface Head {
  /** the header text (byte string), up to but not including the empty line */
  readonly head: string;
  /** the body: what followed the header in the input, streamed on from there */
  readonly body: AsyncIterable<Uint8Array>;
}

/**
 * Reads a message stream only as far as the end of its header: memory is
 * bounded by `cap` (MAX_HEADER), whatever the size of the body, which is
 * handed on unread. A header over the cap is a permanent error; a read error
 * is temporary.
 */
export async function readHead(input: AsyncIterable<Uint8Array>, cap = MAX_HEADER): Promise<Result<Head>> {
  const it = input[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let text = "";
  let from = 0;
  let eof = false;
  for (;;) {
    const scan = scanHeader(text, from, eof);
    if (scan.done) {
      if (scan.head > cap) return tooLong(cap);
      const all = Buffer.concat(chunks);
      return ok({ head: text.slice(0, scan.head), body: bodyOf(all.subarray(scan.body), it, eof) });
    }
    if (text.length > cap) return tooLong(cap);
    from = scan.next;
    try {
      const next = await it.next();
      if (next.done) eof = true;
      else {
        chunks.push(next.value);
        text += fromBytes(next.value);
      }
    } catch (err) {
      return fromErrno(err, "Unable to read the message");
    }
  }
}

function tooLong(cap: number): Result<never> {
  return perm(`Message header longer than ${cap} bytes`, "5.3.4");
}

async function* bodyOf(first: Uint8Array, it: AsyncIterator<Uint8Array>, eof: boolean): AsyncIterable<Uint8Array> {
  if (first.length > 0) yield first;
  if (eof) return;
  for (;;) {
    const next = await it.next();
    if (next.done) return;
    yield next.value;
  }
}
