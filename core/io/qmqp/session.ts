import type { Envelope } from "../../lib/queue/envelope.ts";
import { HeaderReader } from "../../lib/qmqp/netstring.ts";
import { decodeEnvelopePart, encodeReply, MAX_ENVELOPE_BYTES, MAX_MESSAGE, replyFor } from "../../lib/qmqp/protocol.ts";
import type { Result } from "../../lib/base/result.ts";
import { Spool } from "./spool.ts";

/**
 * The server side of one QMQP connection (qmail-qmqpd): read the request,
 * streaming the message into a Spool, then hand message and envelope to
 * `deliver` and write the one-netstring reply. Broken framing gets no reply
 * at all (qmail-qmqpd exits 100 silently); an oversized request gets none
 * either (qmail-qmqpd exits 111).
 */
export type SessionEnd =
  | { readonly kind: "replied"; readonly reply: string; readonly env: Envelope | null }
  | { readonly kind: "bad"; readonly reason: string } // framing: hang up, permanent
  | { readonly kind: "toolong"; readonly reason: string }; // over the limits: hang up, temporary

export type Deliver = (message: Uint8Array | AsyncIterable<Uint8Array>, env: Envelope) => Promise<Result<{ qp: number; id?: number }>>;

const OUTER_MAX = MAX_MESSAGE + MAX_ENVELOPE_BYTES + 64;
const EMPTY = new Uint8Array(0);

class Input {
  #it: AsyncIterator<Uint8Array>;
  #held: Uint8Array = EMPTY;
  consumed = 0;
  constructor(src: AsyncIterable<Uint8Array>) {
    this.#it = src[Symbol.asyncIterator]();
  }
  async chunk(): Promise<Uint8Array | null> {
    let b = this.#held;
    this.#held = EMPTY;
    if (b.length === 0) {
      const n = await this.#it.next();
      if (n.done) return null;
      b = typeof n.value === "string" ? Buffer.from(n.value, "latin1") : n.value;
    }
    this.consumed += b.length;
    return b;
  }
  unread(b: Uint8Array): void {
    this.consumed -= b.length;
    this.#held = b;
  }
}

type Read<T> = { ok: true; value: T } | { ok: false; end: SessionEnd };
const bad = (reason: string): { ok: false; end: SessionEnd } => ({ ok: false, end: { kind: "bad", reason } });

async function header(input: Input, max: number): Promise<Read<number>> {
  const reader = new HeaderReader(max);
  for (let guard = 0; guard < 64; guard++) {
    const b = await input.chunk();
    if (b === null) return bad("connection closed in a length");
    const step = reader.feed(b);
    if (step.kind === "more") continue;
    if (step.kind === "bad") return step.reason === "too long" ? { ok: false, end: { kind: "toolong", reason: "request too long" } } : bad(`netstring length: ${step.reason}`);
    input.unread(b.subarray(step.used));
    return { ok: true, value: step.length };
  }
  return bad("length spread over too many reads");
}

async function body(input: Input, n: number, sink: (b: Uint8Array) => Promise<void>): Promise<Read<null>> {
  let left = n;
  while (left > 0) {
    const b = await input.chunk();
    if (b === null) return bad("connection closed in the request");
    const take = b.subarray(0, Math.min(left, b.length));
    if (take.length < b.length) input.unread(b.subarray(take.length));
    left -= take.length;
    await sink(take);
  }
  return { ok: true, value: null };
}

async function comma(input: Input): Promise<Read<null>> {
  const b = await input.chunk();
  if (b === null || b[0] !== 0x2c) return bad("missing comma");
  input.unread(b.subarray(1));
  return { ok: true, value: null };
}

export async function serveQmqp(src: AsyncIterable<Uint8Array>, write: (b: Uint8Array) => Promise<void>, deliver: Deliver, now = Date.now): Promise<SessionEnd> {
  const input = new Input(src);
  const spool = new Spool();
  try {
    const outer = await header(input, OUTER_MAX);
    if (!outer.ok) return outer.end;
    const start = input.consumed;
    const inner = await header(input, MAX_MESSAGE);
    if (!inner.ok) return inner.end;
    const msg = await body(input, inner.value, (b) => spool.write(b));
    if (!msg.ok) return msg.end;
    const c1 = await comma(input);
    if (!c1.ok) return c1.end;
    const left = outer.value - (input.consumed - start);
    if (left < 0) return { kind: "bad", reason: "message netstring overruns the request" };
    if (left > MAX_ENVELOPE_BYTES) return { kind: "toolong", reason: "envelope too long" };
    const parts: Uint8Array[] = [];
    const rest = await body(input, left, async (b) => { parts.push(b); });
    if (!rest.ok) return rest.end;
    const c2 = await comma(input);
    if (!c2.ok) return c2.end;
    const env = decodeEnvelopePart(Buffer.concat(parts));
    if (env.kind === "bad") return { kind: "bad", reason: `envelope: ${env.reason}` };
    let reply: Uint8Array;
    if (env.kind === "poison") reply = encodeReply("D", "sorry, I can't accept addresses like that (#5.1.3)");
    else {
      const r = await deliver(await spool.message(), env.env);
      reply = replyFor(r.kind === "ok" ? { kind: "ok", qp: r.value.qp, id: r.value.id } : r, now());
    }
    await write(reply);
    return { kind: "replied", reply: Buffer.from(reply).toString("latin1"), env: env.kind === "ok" ? env.env : null };
  } finally {
    await spool.dispose();
  }
}
