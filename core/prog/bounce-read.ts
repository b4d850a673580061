/**
 * `qm bounce-read` (qm-bounce-read(8)): a `.qmail` program for a list's VERP
 * return address (`|qm bounce-read` in `.qmail-owner-default`). For a bounce
 * (empty sender, or qm's `#@[]`) it writes one line per failed recipient on
 * stdout, which qm local passes into the delivery's log line; anything else
 * passes through silently. At most MAX_BOUNCE bytes of the message are read.
 */
import { fromBytes } from "../lib/base/bytes.ts";
import { MAX_BOUNCE, readBounce, verpRecipient } from "../lib/local/bounce-read.ts";

export async function bounceRead(env: NodeJS.ProcessEnv, input: AsyncIterable<Uint8Array>, out: (line: string) => void): Promise<number> {
  const sender = env.SENDER ?? "";
  if (sender !== "" && sender !== "#@[]") return 0; // not a bounce: nothing to say
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of input) {
    chunks.push(c.subarray(0, MAX_BOUNCE - n));
    n += Math.min(c.length, MAX_BOUNCE - n);
    if (n >= MAX_BOUNCE) break; // the rest is not read
  }
  const text = fromBytes(Buffer.concat(chunks));
  const verp = env.DEFAULT !== undefined ? verpRecipient(env.DEFAULT) : null;
  const r = readBounce(text, verp);
  const to = (env.RECIPIENT ?? "?").replace(/[^\x21-\x7e]/g, "?");
  if (r.failed.length === 0) out(`bounce to ${to}: no failed recipient found\n`);
  for (const f of r.failed) out(`bounce to ${to}: ${f.addr} ${f.action} ${f.status} (${r.via})\n`);
  return 0;
}
