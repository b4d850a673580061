/**
 * Message completion's first step (docs/qmail.md §2.8, §2.9): bounce/<id>, if
 * there is one, becomes a QSBMF bounce quoting mess/<id>, put into the queue
 * through submit() as "for bounce".
 */
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { bounceHead, planBounce, type BounceControls } from "../../lib/send/bounce.ts";
import { toBytes } from "../../lib/base/bytes.ts";
import { ok, type Result } from "../../lib/base/result.ts";
import { submit } from "./submit.ts";
import { messPath, readBounce, removeBounce } from "./store.ts";

export type BounceOutcome = { readonly kind: "none" } | { readonly kind: "triple" } | { readonly kind: "sent"; readonly qp: number };

export interface BounceJob {
  readonly home: string;
  readonly id: number;
  readonly sender: string;
  readonly controls: BounceControls;
  readonly nowMs: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Injects the bounce of message `id`, then removes bounce/<id>; a failure leaves it for a later try. */
export async function injectBounce(job: BounceJob): Promise<Result<BounceOutcome>> {
  const queue = join(job.home, "queue");
  const text = readBounce(queue, job.id);
  if (text.kind !== "ok") return text;
  if (text.value === null) return ok({ kind: "none" });
  const plan = planBounce(job.sender, job.controls);
  if (plan.kind === "triple") {
    removeBounce(queue, job.id);
    return ok({ kind: "triple" });
  }
  const head = toBytes(bounceHead(plan, text.value, job.controls, job.nowMs));
  const mess = messPath(queue, job.id);
  async function* body(): AsyncIterable<Uint8Array> {
    yield head;
    for await (const chunk of createReadStream(mess)) yield chunk as Uint8Array;
  }
  const r = await submit(job.home, body(), plan.envelope, { who: { kind: "bounce" }, env: job.env });
  if (r.kind !== "ok") return r;
  removeBounce(queue, job.id);
  return ok({ kind: "sent", qp: r.value.qp });
}
