import { describe, ok, perm, temp, type Result } from "../lib/base/result.ts";
import { forwardSender } from "../io/base/srs.ts";
import { submit } from "../io/queue/submit.ts";

/** Text (argv, env) to a byte string (bytes.ts), the form envelopes carry. */
function byteString(s: string): string {
  return Buffer.from(s, "utf8").toString("latin1");
}

/**
 * qm forward ADDR... (qmail's forward): DTLINE + the message on stdin,
 * queued with envelope sender $NEWSENDER to the given addresses.
 */
export async function forward(qmhome: string, addrs: readonly string[], message: AsyncIterable<Uint8Array>, env: NodeJS.ProcessEnv): Promise<Result<number>> {
  if (addrs.length === 0) return perm("Usage: qm forward address ...", "5.3.5");
  if (env.NEWSENDER === undefined) return perm("NEWSENDER not set", "5.3.5");
  if (env.DTLINE === undefined) return perm("DTLINE not set", "5.3.5");
  const dt = Buffer.from(env.DTLINE, "utf8");
  async function* body(): AsyncIterable<Uint8Array> {
    yield dt;
    yield* message;
  }
  const sender = await forwardSender(qmhome, byteString(env.NEWSENDER)); // SRS (control/srs) so the forward passes SPF
  if (sender.kind !== "ok") return temp(`Unable to forward message: ${describe(sender)}`, "4.3.0");
  const r = await submit(qmhome, body(), { sender: sender.value, recipients: addrs.map(byteString) }, { who: { kind: "uid", uid: process.getuid?.() ?? 0 }, env });
  if (r.kind !== "ok") {
    const reason = `Unable to forward message: ${describe(r)}`;
    return r.kind === "perm" ? perm(reason, r.status) : temp(reason, r.status);
  }
  return ok(r.value.qp);
}
