// qm qshape on a real queue: messages still in todo/, then preprocessed by
// qm send --once with their remote deliveries deferred (smtproutes to a
// closed loopback port), aged by setting the files' times back.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeHome, runQm } from "../support/qm.ts";

describe("qm qshape", { timeout: 180_000 }, () => {
  it("shows the queue by recipient domain (or sender domain with -s) and age, from todo/ and after preprocessing", async () => {
    const home = await makeHome();
    const env = { QMHOME: home };
    writeFileSync(join(home, "control", "smtproutes"), ":127.0.0.1:1\n"); // nothing listens: every remote delivery is deferred
    const a = await runQm(["inject", "-f", "s@snd.example", "a@one.example", "b@One.example", "c@two.example"], { input: "Subject: x\n\nb\n", env });
    assert.equal(a.code, 0, a.stderr.toString());
    const b = await runQm(["inject", "-f", "", "d@two.example"], { input: "Subject: y\n\nb\n", env });
    assert.equal(b.code, 0, b.stderr.toString());
    const todo = readdirSync(join(home, "queue", "todo"));
    assert.equal(todo.length, 2);
    const old = (Date.now() - 100 * 60_000) / 1000; // 100 minutes ago: the 160 bucket
    const first = await runQm(["qshape", "todo"], { env });
    assert.equal(first.code, 0, first.stderr.toString());
    assert.equal(first.stdout.toString(), [
      "            T 5 10 20 40 80 160 320 640 1280 1280+",
      "      TOTAL 4 4  0  0  0  0   0   0   0    0     0",
      "one.example 2 2  0  0  0  0   0   0   0    0     0",
      "two.example 2 2  0  0  0  0   0   0   0    0     0",
      "",
    ].join("\n"));
    const send = await runQm(["send", "--once"], { env, timeoutMs: 60_000 });
    assert.equal(send.code, 0, send.stderr.toString());
    assert.match(send.stderr.toString(), /4 deferral/);
    for (const dir of readdirSync(join(home, "queue", "info"))) {
      for (const id of readdirSync(join(home, "queue", "info", dir))) if (id === todo[0]) utimesSync(join(home, "queue", "info", dir, id), old, old);
    }
    const all = await runQm(["qshape", "-b", "8"], { env });
    assert.equal(all.code, 0, all.stderr.toString());
    const rows = all.stdout.toString().split("\n").map((l) => l.trim().split(/ +/));
    assert.deepEqual(rows[0], ["T", "5", "10", "20", "40", "80", "160", "320", "320+"]);
    assert.deepEqual(readdirSync(join(home, "queue", "todo")), [], "all preprocessed");
    const bySender = await runQm(["qshape", "-s", "remote"], { env });
    const sender = new Map(bySender.stdout.toString().trim().split("\n").slice(1).map((l) => { const [d, t] = l.trim().split(/ +/); return [d, Number(t)]; }));
    assert.deepEqual(sender, new Map([["TOTAL", 2], ["MAILER-DAEMON", 1], ["snd.example", 1]]), "a message counts once by its sender's domain");
    const total = rows[1]!;
    assert.equal(total[0], "TOTAL");
    assert.equal(total[1], "4");
    assert.equal(Number(total[2]) + Number(total[7]), 4, "each recipient in its bucket: now (5) or 100 minutes ago (160)");
    assert.ok(Number(total[7]) >= 1, all.stdout.toString());
    assert.equal((await runQm(["qshape", "todo"], { env })).stdout.toString().split("\n")[1], "TOTAL 0 0  0  0  0  0   0   0   0    0     0");
  });
  it("refuses a bad option or channel with exit 100 and one line", async () => {
    const home = await makeHome();
    for (const argv of [["-b", "99"], ["deferred"], ["-x"]]) {
      const r = await runQm(["qshape", ...argv], { env: { QMHOME: home } });
      assert.equal(r.code, 100, argv.join(" "));
      assert.match(r.stderr.toString(), /^qm qshape: fatal: .+ \(#5\.3\.5\)\n$/);
      assert.equal(r.stdout.length, 0);
    }
  });
});
