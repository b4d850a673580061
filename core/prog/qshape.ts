/**
 * qm qshape (qm-qshape(8)): the queue's shape by domain and age, from the
 * queue itself (core/io/queue/read.ts, read-only), as Postfix's qshape.
 */
import { scanQueue } from "../io/queue/read.ts";
import { formatShape, shapeDomain, type ShapeItem, type ShapeOptions } from "../lib/stats/qshape.ts";
import type { Channel } from "../lib/queue/qread.ts";
import { ok, type Result } from "../lib/base/result.ts";

export interface QshapeOptions extends ShapeOptions {
  readonly senders: boolean;
  /** the channels whose recipients count: todo (not yet preprocessed), local, remote */
  readonly channels: ReadonlySet<Channel>;
  readonly now: number;
  readonly out: (text: string) => void;
}

export async function qshape(home: string, o: QshapeOptions): Promise<Result<{ items: number }>> {
  const items: ShapeItem[] = [];
  for await (const e of scanQueue(home)) {
    if (e.kind === "fatal") return e.fail;
    if (e.kind !== "message") continue;
    const m = e.message;
    const age = Math.max(0, (o.now - m.time) / 60_000);
    const pending = m.recipients.filter((r) => !r.done && o.channels.has(r.channel));
    if (o.senders) {
      if (pending.length > 0) items.push({ age, domain: shapeDomain(m.sender, true) });
    } else {
      for (const r of pending) items.push({ age, domain: shapeDomain(r.addr) });
    }
  }
  o.out(formatShape(items, o));
  return ok({ items: items.length });
}
