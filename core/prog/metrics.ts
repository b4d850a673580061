/**
 * `qm start --metrics IP:PORT` (qm-start(8)): the metrics endpoint beside the
 * running parts. qm start hands each log line it passes on to line(); the
 * line becomes observations (core/lib/stats/live.ts) that move the counters;
 * the queue's sizes are counted from the queue when scraped. A bare PORT,
 * or ":PORT", is 127.0.0.1: the endpoint is on loopback unless told.
 */
import { parseListenAddress } from "../io/base/listener.ts";
import { countChannels, countQueue } from "../io/queue/read.ts";
import { serveMetrics } from "../io/stats/metrics.ts";
import { parseEvent } from "../lib/stats/line.ts";
import { newLive, observe } from "../lib/stats/live.ts";
import { ok, type Result } from "../lib/base/result.ts";

export interface Metrics {
  readonly address: string;
  line(text: string): void;
  close(): Promise<void>;
}

export async function startMetrics(home: string, listen: string, clock: () => number = Date.now): Promise<Result<Metrics>> {
  const text = /^\d+$/.test(listen) ? `127.0.0.1:${listen}` : listen.startsWith(":") ? `127.0.0.1${listen}` : listen;
  const where = parseListenAddress(text);
  if (where.kind !== "ok") return where;
  const sizes = async () => {
    const [q, c] = [await countQueue(home), await countChannels(home)];
    if (q.kind !== "ok") throw new Error(q.reason);
    if (c.kind !== "ok") throw new Error(c.reason);
    return { todo: q.value.todo, local: c.value.local, remote: c.value.remote, held: c.value.held, maildrop: q.value.maildrop };
  };
  const server = await serveMetrics(where.value.host, where.value.port, sizes);
  if (server.kind !== "ok") return server;
  const live = newLive();
  return ok({
    address: server.value.address,
    line(lines: string) {
      for (const l of lines.split("\n")) {
        const e = l === "" ? null : parseEvent(l);
        if (e) for (const o of observe(live, e, clock())) server.value.observe(o);
      }
    },
    close: () => server.value.close(),
  });
}
