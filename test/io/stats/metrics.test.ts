import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serveMetrics } from "../../../core/io/stats/metrics.ts";
import { startMetrics } from "../../../core/prog/metrics.ts";
import { makeHome } from "../../support/qm.ts";

const sizes = async () => ({ todo: 3, local: 1, remote: 2, held: 0, maildrop: 0 });

describe("serveMetrics()", { timeout: 60_000 }, () => {
  it("serves Prometheus' text format at GET /metrics, 404 elsewhere", async () => {
    const m = await serveMetrics("127.0.0.1", 0, sizes);
    assert.ok(m.kind === "ok");
    try {
      assert.match(m.value.address, /^127\.0\.0\.1:\d+$/);
      m.value.observe({ o: "delivery", channel: "local", outcome: "success", delay: 0.5 });
      m.value.observe({ o: "delivery", channel: "remote", outcome: "mangled", delay: null });
      m.value.observe({ o: "reject", reason: "RCPT 553 5.7.1" });
      m.value.observe({ o: "concurrency", channel: "remote", used: 4, limit: 20 });
      const res = await fetch(`http://${m.value.address}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      for (const line of [
        'qm_deliveries_total{channel="local",outcome="success"} 1', 'qm_deliveries_total{channel="remote",outcome="mangled"} 1', 'qm_deliveries_total{channel="remote",outcome="failure"} 0',
        'qm_delivery_delay_seconds_bucket{le="1",channel="local"} 1', 'qm_delivery_delay_seconds_sum{channel="local"} 0.5', 'qm_smtp_rejects_total{reason="RCPT 553 5.7.1"} 1',
        'qm_concurrency_in_use{channel="remote"} 4', 'qm_queue_messages{queue="todo"} 3', 'qm_queue_messages{queue="remote"} 2',
      ]) assert.ok(text.split("\n").includes(line), `${line}\n${text}`);
      for (const [method, path] of [["GET", "/"], ["POST", "/metrics"], ["GET", "/metrics/../x"]]) {
        assert.equal((await fetch(`http://${m.value.address}${path}`, { method })).status, 404, `${method} ${path}`);
      }
    } finally {
      await m.value.close();
    }
  });
  it("answers 503 when the queue cannot be counted, and fails to listen on a port in use with a temporary error", async () => {
    const m = await serveMetrics("127.0.0.1", 0, async () => { throw new Error("no queue"); });
    assert.ok(m.kind === "ok");
    try {
      assert.equal((await fetch(`http://${m.value.address}/metrics`)).status, 503);
      const port = Number(m.value.address.split(":")[1]);
      const again = await serveMetrics("127.0.0.1", port, sizes);
      assert.equal(again.kind, "temp");
      assert.match(again.kind === "temp" ? again.reason : "", /^Unable to listen on 127\.0\.0\.1:\d+ for metrics: /);
    } finally {
      await m.value.close();
    }
  });
});

describe("startMetrics()", { timeout: 60_000 }, () => {
  it("puts a bare port on loopback, counts the log lines it is given and the real queue", async () => {
    const home = await makeHome();
    for (const listen of ["0", ":0"]) {
      const m = await startMetrics(home, listen);
      assert.ok(m.kind === "ok", JSON.stringify(m));
      try {
        assert.match(m.value.address, /^127\.0\.0\.1:\d+$/, listen);
        m.value.line("new msg 4\nstarting delivery 1: msg 4 to local a@example.test\n");
        m.value.line("delivery 1: success: did_1+0+0/\n");
        const text = await (await fetch(`http://${m.value.address}/metrics`)).text();
        assert.ok(text.includes('qm_deliveries_total{channel="local",outcome="success"} 1\n'), text);
        assert.ok(text.includes('qm_queue_messages{queue="todo"} 0\n'), text);
      } finally {
        await m.value.close();
      }
    }
    const bad = await startMetrics(home, "localhost:9149");
    assert.equal(bad.kind, "perm");
  });
});
