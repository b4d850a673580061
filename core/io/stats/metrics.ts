/**
 * The metrics endpoint of `qm start --metrics IP:PORT` (qm-start(8)):
 * Prometheus' text format at GET /metrics, made with prom-client (npm, the
 * Prometheus client for Node; it runs unchanged in the standalone binary).
 * Counters and histograms move with the observations of the log lines
 * (core/lib/stats/live.ts); the queue's sizes are read when scraped, through
 * `queueSizes`, handed in by the program.
 */
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Observation } from "../../lib/stats/live.ts";
import { DELAY_BOUNDS } from "../../lib/stats/report.ts";
import { ok, perm, type Result } from "../../lib/base/result.ts";
import { fromErrno } from "../base/errno.ts";

export type QueueSizes = () => Promise<Readonly<Record<string, number>>>;

export interface MetricsServer {
  readonly address: string; // IP:PORT it listens on
  observe(o: Observation): void;
  close(): Promise<void>;
}

function metricsSet(queueSizes: QueueSizes) {
  const registry = new Registry();
  const r = [registry];
  const m = {
    queued: new Counter({ name: "qm_messages_queued_total", help: "Messages taken into the queue (new msg lines)", registers: r }),
    done: new Counter({ name: "qm_messages_done_total", help: "Messages whose every recipient is done (end msg lines)", registers: r }),
    deliveries: new Counter({ name: "qm_deliveries_total", help: "Delivery attempts by channel and outcome", labelNames: ["channel", "outcome"] as const, registers: r }),
    delay: new Histogram({ name: "qm_delivery_delay_seconds", help: "Queued to done, for final deliveries (success, failure)", labelNames: ["channel"] as const, buckets: DELAY_BOUNDS.filter(Number.isFinite), registers: r }),
    concurrency: new Gauge({ name: "qm_concurrency_in_use", help: "Deliveries under way by channel", labelNames: ["channel"] as const, registers: r }),
    limit: new Gauge({ name: "qm_concurrency_limit", help: "concurrencylocal and concurrencyremote", labelNames: ["channel"] as const, registers: r }),
    sessions: new Counter({ name: "qm_smtp_sessions_total", help: "SMTP and QMQP connections", registers: r }),
    tls: new Counter({ name: "qm_smtp_tls_total", help: "Sessions that completed STARTTLS, or the handshake of an smtps listener", registers: r }),
    auth: new Counter({ name: "qm_smtp_auth_total", help: "SMTP AUTH attempts by result", labelNames: ["result"] as const, registers: r }),
    accepted: new Counter({ name: "qm_smtp_accepted_total", help: "Messages the servers accepted", registers: r }),
    rejects: new Counter({ name: "qm_smtp_rejects_total", help: "Refused commands by command, reply code and enhanced code", labelNames: ["reason"] as const, registers: r }),
  };
  new Gauge({
    name: "qm_queue_messages", help: "Messages in the queue: todo (not yet preprocessed), local and remote (with recipients pending there), held, maildrop (not yet taken in)",
    labelNames: ["queue"] as const, registers: r,
    async collect() {
      for (const [queue, n] of Object.entries(await queueSizes())) this.set({ queue }, n);
    },
  });
  for (const channel of ["local", "remote"]) for (const outcome of ["success", "failure", "deferral"]) m.deliveries.inc({ channel, outcome }, 0);
  return { registry, m };
}

function apply(m: ReturnType<typeof metricsSet>["m"], o: Observation): void {
  switch (o.o) {
    case "queued": return m.queued.inc();
    case "done": return m.done.inc();
    case "delivery":
      m.deliveries.inc({ channel: o.channel, outcome: o.outcome });
      if (o.delay !== null) m.delay.observe({ channel: o.channel }, o.delay);
      return;
    case "concurrency": m.concurrency.set({ channel: o.channel }, o.used); m.limit.set({ channel: o.channel }, o.limit); return;
    case "session": return m.sessions.inc();
    case "tls": return m.tls.inc();
    case "auth": return m.auth.inc({ result: o.ok ? "ok" : "failed" });
    case "accepted": return m.accepted.inc();
    case "reject": return m.rejects.inc({ reason: o.reason });
  }
}

/** Listens on `host`:`port` (port 0: any free one, said in `address`). */
export async function serveMetrics(host: string, port: number, queueSizes: QueueSizes): Promise<Result<MetricsServer>> {
  const { registry, m } = metricsSet(queueSizes);
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("qm: only GET /metrics here\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: unknown) => res.writeHead(503, { "content-type": "text/plain" }).end(`qm: ${String(err)}\n`),
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  const listening = await new Promise<Error | null>((resolve) => {
    server.once("error", resolve);
    server.listen({ host, port }, () => resolve(null));
  });
  if (listening) return fromErrno(listening, `Unable to listen on ${host}:${port} for metrics`);
  const a = server.address();
  if (a === null || typeof a === "string") return perm("the metrics listener has no address", "5.3.0");
  return ok({
    address: `${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`,
    observe: (o) => apply(m, o),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  });
}
