import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SPLIT } from "../../core/lib/queue/layout.ts";
import { fakeEnv, fakeHome, put, queueFiles, runBin, sendOnce, startDaemon, type Daemon } from "../support/send-env.ts";

const daemons: Daemon[] = [];
after(() => {
  for (const d of daemons) d.child.kill("SIGKILL");
});

const lines = (b: Buffer) => b.toString("latin1").split("\n").filter((l) => l !== "");

describe("qm send --once", { timeout: 300_000 }, () => {
  it("delivers, checkpoints each result and keeps the deferred recipient", async () => {
    const home = await fakeHome();
    const id = await put(home, "joe@elsewhere.test", ["ok1@example.test", "bad1@example.test", "tmp1@remote.test"]);
    const r = await sendOnce(home);
    assert.equal(r.code, 0, r.stderr.toString());
    const log = lines(r.stdout);
    assert.equal(log[0], "status: local 0/10 remote 0/20");
    assert.ok(log.includes(`new msg ${id}`));
    assert.ok(log.some((l) => new RegExp(`^info msg ${id}: bytes \\d+ from <joe@elsewhere.test> qp \\d+ uid 0$`).test(l)), log.join("\n"));
    assert.ok(log.some((l) => /^starting delivery \d+: msg \d+ to local ok1@example.test$/.test(l)));
    assert.ok(log.some((l) => /^starting delivery \d+: msg \d+ to remote tmp1@remote.test$/.test(l)));
    assert.ok(log.some((l) => /^delivery \d+: success: fake_delivered_to_ok1@example.test\/did_1\+0\+0\/$/.test(l)));
    assert.ok(log.some((l) => /^delivery \d+: failure: Sorry,_no_mailbox_here_by_that_name._\(#5.1.1\)\/\/second_paragraph\/$/.test(l)));
    assert.ok(log.some((l) => /^delivery \d+: deferral: /.test(l)));
    assert.equal(log.at(-1), "status: exiting");
    assert.match(r.stderr.toString(), /3 deliveries \(1 success, 1 failure, 1 deferral\), 0 messages done, 1 left/);
    const s = id % SPLIT;
    assert.deepEqual(queueFiles(home), [`bounce/${id}`, `defer/${s}/${id}`, `info/${s}/${id}`, `mess/${s}/${id}`, `remote/${s}/${id}`]);
    // the status record qm qctl and qm qread show (qm-queue(5)): one attempt, the report text, the next try
    const birth = Math.floor(statSync(join(home, "queue/info", String(s), String(id))).mtimeMs / 1000);
    const next = Math.floor(statSync(join(home, "queue/remote", String(s), String(id))).mtimeMs / 1000);
    assert.match(readFileSync(join(home, "queue/defer", String(s), String(id)), "latin1"), new RegExp(`^qm-status 1 ${birth}\nremote 1 \\d+ ${next} tmp1@remote.test fake%20deferral%20for%20tmp1@remote.test.%20\\(#4.3.0\\)%0a\n$`));
    assert.equal(readFileSync(join(home, "queue/remote", String(s), String(id)), "latin1"), "Ttmp1@remote.test\0");
    assert.equal(readFileSync(join(home, "queue/bounce", String(id)), "latin1"), "bad1@example.test:\nSorry, no mailbox here by that name. (#5.1.1)\n/second paragraph\n\n");
  });

  it("retries on qmail's remote schedule under an injected clock, and --force ignores it", async () => {
    const home = await fakeHome();
    await put(home, "joe@elsewhere.test", ["tmp1@remote.test"]);
    const first = await sendOnce(home);
    assert.match(first.stderr.toString(), /1 deliveries .* 1 left/);
    const early = await sendOnce(home, [], { QM_CLOCK_OFFSET: "350" });
    assert.match(early.stderr.toString(), /0 deliveries/, "not due before 400 s");
    // first retry: birth + 20² = 400 s, or birth + 21² = 441 s when the first try came a second or more after birth (a slow machine)
    const due = await sendOnce(home, [], { QM_CLOCK_OFFSET: "445" });
    assert.match(due.stderr.toString(), /1 deliveries \(0 success, 0 failure, 1 deferral\)/);
    const notYet = await sendOnce(home, [], { QM_CLOCK_OFFSET: "1000" });
    assert.match(notYet.stderr.toString(), /0 deliveries/, "next one is at 1600 s");
    const forced = await sendOnce(home, ["--force"], { QM_CLOCK_OFFSET: "1000" });
    assert.match(forced.stderr.toString(), /1 deliveries/);
  });

  it("bounces a recipient deferred past queuelifetime and delivers the bounce in the same run", async () => {
    const home = await fakeHome({ queuelifetime: "3600" });
    const id = await put(home, "okjoe@elsewhere.test", ["tmp1@remote.test"]);
    await sendOnce(home);
    const r = await sendOnce(home, [], { QM_CLOCK_OFFSET: "3700", FAKE_SPAWN_LOG: join(home, "fake.log") });
    const log = lines(r.stdout);
    assert.ok(log.some((l) => /^delivery \d+: failure: fake_deferral_.*\/Giving_up:/.test(l)), log.join("\n"));
    const bounce = log.find((l) => l.startsWith(`bounce msg ${id} qp `));
    assert.ok(bounce, log.join("\n"));
    assert.ok(log.indexOf(`end msg ${id}`) > log.indexOf(bounce));
    assert.ok(log.some((l) => /^info msg \d+: bytes \d+ from <> qp \d+ uid \d+$/.test(l)));
    assert.deepEqual(queueFiles(home), []);
    const fake = readFileSync(join(home, "fake.log"), "latin1");
    assert.match(fake, /start \d+ okjoe@elsewhere.test \d+ \S+ \n/, "the bounce went to the sender with an empty envelope sender");
  });

  it("sends a double bounce to postmaster and drops a triple bounce", async () => {
    const home = await fakeHome({ doublebounceto: "badpm", doublebouncehost: "example.test" });
    await put(home, "", ["bad1@example.test"]);
    const r = await sendOnce(home, [], { FAKE_SPAWN_LOG: join(home, "fake.log") });
    const log = lines(r.stdout);
    assert.ok(log.some((l) => /^bounce msg \d+ qp \d+$/.test(l)), log.join("\n"));
    assert.ok(log.some((l) => /^info msg \d+: bytes \d+ from <#@\[\]> qp/.test(l)), log.join("\n"));
    assert.ok(log.some((l) => /^triple bounce: discarding bounce\/\d+$/.test(l)), log.join("\n"));
    assert.match(readFileSync(join(home, "fake.log"), "latin1"), /start \d+ badpm@example.test \d+ \S+ #@\[\]/);
    assert.deepEqual(queueFiles(home), []);
  });

  it("never exceeds concurrencylocal and concurrencyremote with slow deliveries", async () => {
    const home = await fakeHome({ concurrencylocal: "3", concurrencyremote: "2" });
    const local = Array.from({ length: 9 }, (_, i) => `slow150-ok${i}@example.test`);
    // six domains: recipients at one domain would share one transaction, one unit of concurrencyremote
    const remote = Array.from({ length: 6 }, (_, i) => `slow150-ok${i}@d${i}.remote.test`);
    await put(home, "joe@x.test", [...local, ...remote]);
    const logFile = join(home, "fake.log");
    const t0 = Date.now();
    const r = await sendOnce(home, [], { FAKE_SPAWN_LOG: logFile });
    assert.equal(r.code, 0);
    const fake = readFileSync(logFile, "latin1").split("\n");
    // one fake spawner per channel: its own in-flight count per start line
    const peaks = fake.filter((l) => l.startsWith("start ")).map((l) => ({ rcpt: l.split(" ")[2]!, n: Number(l.split(" ")[3]) }));
    const peak = (dom: string) => Math.max(...peaks.filter((p) => p.rcpt.endsWith(dom)).map((p) => p.n));
    assert.equal(peak("@example.test"), 3);
    assert.equal(peak(".remote.test"), 2);
    for (const l of lines(r.stdout).filter((x) => x.startsWith("status: local"))) {
      const m = /^status: local (\d+)\/3 remote (\d+)\/2/.exec(l);
      assert.ok(m && Number(m[1]) <= 3 && Number(m[2]) <= 2, l);
    }
    assert.ok(Date.now() - t0 >= 3 * 150, "9 slow local deliveries 3 at a time take 3 rounds");
    assert.deepEqual(queueFiles(home), []);
  });

  it("exits 111 when another queue manager holds the queue, and takes over a dead one's lock", async () => {
    const home = await fakeHome();
    const d = await startDaemon(fakeEnv(home));
    daemons.push(d);
    await d.waitFor(/^status: local 0\/10/);
    const second = await runBin(["send"], fakeEnv(home));
    assert.equal(second.code, 111);
    assert.match(second.stdout.toString() + second.stderr.toString(), /already running/);
    const run = await sendOnce(home); // a queue run (sendmail -q) asks the running one to flush instead (qm-qctl(8))
    assert.deepEqual([run.code, run.stderr.toString()], [0, "qm send: a qm send is running: asked it to flush the queue\n"]);
    d.child.kill("SIGKILL");
    await d.exited;
    assert.ok(existsSync(join(home, "queue/lock/sendmutex")), "a SIGKILLed holder leaves its pid file");
    const third = await sendOnce(home);
    assert.equal(third.code, 0, third.stderr.toString());
  });
});

describe("qm send (daemon)", { timeout: 300_000 }, () => {
  it("wakes on the trigger at once, retries on SIGALRM and exits 0 on SIGTERM", async () => {
    const home = await fakeHome();
    const d = await startDaemon(fakeEnv(home));
    daemons.push(d);
    await d.waitFor(/^status: local 0\/10/);
    const t0 = Date.now();
    const id = await put(home, "joe@x.test", ["ok@example.test"]);
    await d.waitFor(new RegExp(`^end msg ${id}$`), 5000);
    assert.ok(Date.now() - t0 < 5000);
    await put(home, "joe@x.test", ["tmp@example.test"]); // its id may be the first one's inode again
    await d.waitFor(/^delivery \d+: deferral:/);
    d.child.kill("SIGALRM");
    await d.waitFor(/^delivery 3: deferral:/);
    assert.equal(d.lines().filter((l) => l.endsWith(" to local tmp@example.test")).length, 2);
    d.child.kill("SIGTERM");
    assert.equal(await d.exited, 0);
    assert.equal(d.lines().at(-1), "status: exiting");
  });

  it("re-reads locals on SIGHUP", async () => {
    const home = await fakeHome();
    const d = await startDaemon(fakeEnv(home));
    daemons.push(d);
    await d.waitFor(/^status: local 0\/10/);
    await put(home, "joe@x.test", ["ok1@new.test"]);
    await d.waitFor(/to remote ok1@new.test$/);
    writeFileSync(join(home, "control/locals"), "example.test\nnew.test\n");
    d.child.kill("SIGHUP");
    await new Promise((r) => setTimeout(r, 300));
    await put(home, "joe@x.test", ["ok2@new.test"]);
    await d.waitFor(/to local ok2@new.test$/);
    d.child.kill("SIGTERM");
    assert.equal(await d.exited, 0);
  });
});

describe("qm send start-up", { timeout: 300_000 }, () => {
  it("redoes an interrupted preprocessing and removes a dead injector's pid file", async () => {
    const home = await fakeHome();
    const id = await put(home, "joe@x.test", ["ok1@example.test"]);
    const s = id % SPLIT;
    // a crash after info/local were half written, before todo/ went
    writeFileSync(join(home, "queue/info", String(s), String(id)), "Fstale\0");
    writeFileSync(join(home, "queue/local", String(s), String(id)), "Tstale@example.test\0");
    writeFileSync(join(home, "queue/pid/999999.1.1"), "");
    const r = await sendOnce(home);
    const log = lines(r.stdout);
    assert.ok(log.some((l) => /to local ok1@example.test$/.test(l)));
    assert.ok(!log.some((l) => l.includes("stale")), log.join("\n"));
    assert.deepEqual(queueFiles(home), []);
  });

  it("takes maildrop files in with the owner's uid and removes broken ones", async () => {
    const home = await fakeHome();
    const drop = join(home, "queue/maildrop");
    writeFileSync(join(drop, "good"), "Fuser@example.test\0Tok@example.test\0\0Subject: x\n\nbody\n");
    writeFileSync(join(drop, "broken"), "Xnot an envelope");
    const r = await sendOnce(home);
    const log = lines(r.stdout);
    assert.ok(log.some((l) => /^info msg \d+: bytes \d+ from <user@example.test> qp \d+ uid 0$/.test(l)), log.join("\n"));
    assert.ok(log.some((l) => /^warning: maildrop\/broken is not a queue file; removed$/.test(l)), log.join("\n"));
    assert.deepEqual(queueFiles(home), []);
  });

  it("leaves a todo file with an unknown record for later and says so", async () => {
    const home = await fakeHome();
    const id = await put(home, "joe@x.test", ["ok@example.test"]);
    writeFileSync(join(home, "queue/todo", String(id)), "u0\0p1\0Fjoe@x.test\0Xhostile\0");
    const r = await sendOnce(home);
    assert.equal(r.code, 0);
    assert.ok(lines(r.stdout).some((l) => l === `warning: trouble reading todo/${id}: unknown record type`));
    assert.ok(existsSync(join(home, "queue/todo", String(id))));
  });

  it("defers a mangled report and ignores reports for slots not in use", async () => {
    const home = await fakeHome();
    await put(home, "joe@x.test", ["mangle@example.test", "oob@example.test"]);
    const r = await sendOnce(home);
    const log = lines(r.stdout);
    assert.ok(log.some((l) => /^delivery \d+: report mangled, will defer$/.test(l)), log.join("\n"));
    assert.equal(log.filter((l) => l === "warning: internal error: delivery report out of range").length, 2, log.join("\n"));
    assert.ok(log.some((l) => /^delivery \d+: success: fine\/$/.test(l)));
    assert.match(r.stderr.toString(), /1 success, 0 failure, 1 deferral/);
  });

  it("removes maildrop entries that are not regular files without following them", async () => {
    const home = await fakeHome();
    const drop = join(home, "queue/maildrop");
    const secret = join(home, "secret");
    writeFileSync(secret, "Fx@y\0Tok@example.test\0\0stolen\n");
    symlinkSync(secret, join(drop, "link"));
    spawnSync("mkfifo", [join(drop, "fifo")], { timeout: 60_000 });
    const r = await sendOnce(home);
    const log = lines(r.stdout);
    assert.ok(!log.some((l) => l.startsWith("new msg")), log.join("\n"));
    assert.ok(!existsSync(join(drop, "link")) && !existsSync(join(drop, "fifo")));
    assert.ok(existsSync(secret));
  });

  it("cannot start without control/me", async () => {
    const home = await fakeHome();
    await runBin(["send"], { QMHOME: "/nonexistent/qm" }).then((r) => assert.equal(r.code, 111));
    writeFileSync(join(home, "control/me"), "");
    const r = await sendOnce(home);
    assert.equal(r.code, 111);
    assert.match(r.stdout.toString(), /^alert: cannot start: /m);
  });
});
