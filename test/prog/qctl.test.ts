// qm qctl end to end (qm-qctl(8)): real queues filled by the real enqueue()
// and preprocessed by a real `qm send --once` (with the fake spawner), then
// changed by `qm qctl` processes, checked file by file.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, constants, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { noteDeferrals } from "../../core/io/queue/status.ts";
import { asText, fastQm } from "../support/qm.ts";
import { fakeEnv, fakeHome, put, queueFiles, runBin, sendOnce, startDaemon } from "../support/send-env.ts";

const T = { timeout: 120_000 };
// the standalone binary (fastQm): these tests start qm some sixty times
const qctl = async (home: string, ...args: string[]) => asText(await runBin(["qctl", ...args], fakeEnv(home)));
const sp = (dir: string, id: number) => `${dir}/${id % 23}/${id}`;
const channel = (home: string, dir: string, id: number) => readFileSync(join(home, "queue", sp(dir, id)), "latin1");

/** A home with one message preprocessed by qm send and left deferred for its remote recipient. */
async function deferred(recipients = ["ok1@example.test", "tmp1@far.test"], sender = "joe@example.test"): Promise<{ home: string; id: number }> {
  const home = await fakeHome();
  const id = await put(home, sender, recipients);
  const r = await sendOnce(home);
  assert.equal(r.code, 0, r.stderr.toString());
  return { home, id };
}

describe("qm qctl list and show", { timeout: 300_000 }, () => {
  it("lists each recipient's state, attempts, last error and next try, as text and as JSON", T, async () => {
    const { home, id } = await deferred();
    const birth = Math.floor(statSync(join(home, "queue", sp("info", id))).mtimeMs / 1000);
    const next = Math.floor(statSync(join(home, "queue", sp("remote", id))).mtimeMs / 1000);
    assert.ok(next > birth, "qm send set the next try as the channel file's mtime");
    // the status record qm send --once wrote after its deferral
    const j = await qctl(home, "list", "--json");
    assert.equal(j.code, 0, j.stderr);
    const list = JSON.parse(j.stdout) as { id: number; sender: string; held: boolean; recipients: Record<string, unknown>[] }[];
    assert.equal(list.length, 1);
    assert.equal(list[0]!.id, id);
    assert.equal(list[0]!.sender, "joe@example.test");
    const lastTry = Date.parse(String(list[0]!.recipients[0]?.lastTry)) / 1000;
    assert.ok(lastTry >= birth && lastTry < next, "the last try is the pass's start");
    assert.deepEqual(list[0]!.recipients, [
      { address: "tmp1@far.test", channel: "remote", state: "pending", attempts: 1, lastError: "fake deferral for tmp1@far.test. (#4.3.0)\n", lastTry: new Date(lastTry * 1000).toISOString(), nextTry: new Date(next * 1000).toISOString() },
    ]);
    const t = await qctl(home, "list");
    assert.match(t.stdout, new RegExp(`^#${id}  \\d+s  \\d+  <joe@example.test>\\n  pending  remote  tmp1@far.test  attempts 1  next \\S+  last: fake deferral for tmp1@far.test. \\(#4.3.0\\)\\n$`));
    for (const [sel, n] of [[["--domain", "FAR.test"], 1], [["--domain", "example.test"], 0], [["--sender", "joe@example.test"], 1], [["--sender", "<>"], 0], [["--older", "3600"], 0]] as const) {
      assert.equal(JSON.parse((await qctl(home, "list", "--json", ...sel)).stdout).length, n, sel.join(" "));
    }
    const s = await qctl(home, "show", String(id));
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /pending  remote  tmp1@far.test  attempts 1/);
    assert.match(s.stdout, /\n\nReceived: .*\n(.*\n)*Subject: test\n$/);
    const q = await runBin(["qread"], fakeEnv(home));
    assert.match(q.stdout.toString(), /\tremote\ttmp1@far.test\n\t\t1 attempt, next try \d+ \w+ \d{4} [\d:]+ GMT: fake deferral for tmp1@far.test. \(#4.3.0\)\n$/);
    const bp = await runBin(["sendmail", "-bp"], fakeEnv(home));
    assert.equal(bp.stdout.toString(), q.stdout.toString());
  });

  it("answers 100 with one line for an unknown id or bad words, and leaves the queue alone", T, async () => {
    const { home } = await deferred();
    const before = queueFiles(home);
    for (const args of [["show", "12345"], ["delete", "12345"], ["hold", "nope"], ["frobnicate"], ["list", "--older", "x"]]) {
      const r = await qctl(home, ...args);
      assert.equal(r.code, 100, args.join(" "));
      assert.equal(r.stderr.split("\n").length, 2, r.stderr);
      assert.match(r.stderr, /^qm qctl: fatal: /);
    }
    assert.deepEqual(queueFiles(home), before);
  });
});

describe("qm qctl changes, with no qm send running", { timeout: 300_000 }, () => {
  it("holds a message across queue runs and delivers it once released", T, async () => {
    const { home, id } = await deferred(["tmp1@far.test", "ok2@far.test"]);
    assert.match(channel(home, "remote", id), /^Ttmp1@far.test\0Dok2@far.test\0$/);
    writeFileSync(join(home, "queue", sp("remote", id)), "Tok3@far.test\0Dok2@far.test\0"); // now deliverable
    const h = await qctl(home, "hold", String(id));
    assert.deepEqual([h.code, h.stdout], [0, `held #${id}\n`]);
    assert.equal(readFileSync(join(home, "queue", sp("hold", id)), "latin1"), "hold\n");
    assert.match((await runBin(["qread"], fakeEnv(home))).stdout.toString(), / held\n/);
    assert.match((await qctl(home, "list")).stdout, /\n  held     remote  ok3@far.test/);
    const rel = await qctl(home, "release", String(id));
    assert.deepEqual([rel.code, rel.stdout], [0, `released #${id}\n`]);
    assert.equal(existsSync(join(home, "queue", sp("hold", id))), false);
  });

  it("deletes by id, by domain and by sender, leaving nothing of the message", T, async () => {
    const home = await fakeHome();
    const a = await put(home, "joe@example.test", ["tmp1@far.test"]);
    const b = await put(home, "ann@example.test", ["tmp2@near.test"]);
    const c = await put(home, "eve@example.test", ["tmp3@near.test"]);
    const d = await put(home, "eve@example.test", ["tmp4@other.test"]);
    assert.equal((await sendOnce(home)).code, 0);
    await qctl(home, "hold", String(c)); // held messages are deleted too
    assert.equal(writeStatusFor(home, b), "ok");
    const byId = await qctl(home, "delete", String(a));
    assert.deepEqual([byId.code, byId.stdout], [0, `deleted #${a}\n`]);
    const byDomain = await qctl(home, "delete", "--domain", "near.test");
    assert.deepEqual([byDomain.code, byDomain.stdout.split("\n").sort()], [0, ["", `deleted #${b}`, `deleted #${c}`].sort()]);
    const bySender = await qctl(home, "delete", "--sender", "EVE@example.test");
    assert.deepEqual([bySender.code, bySender.stdout], [0, `deleted #${d}\n`]);
    assert.deepEqual(queueFiles(home), []);
    const none = await qctl(home, "delete", "--domain", "near.test");
    assert.deepEqual([none.code, none.stdout], [0, ""]);
  });

  it("deletes a message not yet preprocessed (in todo/)", T, async () => {
    const home = await fakeHome();
    const id = await put(home, "joe@example.test", ["ok@far.test"]);
    const r = await qctl(home, "delete", String(id));
    assert.deepEqual([r.code, r.stdout], [0, `deleted #${id}\n`]);
    assert.deepEqual(queueFiles(home), []);
    assert.match((await sendOnce(home)).stderr.toString(), /0 deliveries/);
  });

  it("finishes a delete a crash interrupted before anything else, and never delivers it", T, async () => {
    const { home, id } = await deferred(["tmp3@far.test"]);
    const other = await put(home, "x@example.test", ["ok4@far.test"]);
    // the state after step 1 of a delete: the mark is durable, nothing else is gone yet
    writeFileSync(join(home, "queue", sp("hold", id)), "delete\n");
    const r = await qctl(home, "hold", String(other));
    assert.deepEqual([r.code, r.stdout], [0, `held #${other}\n`]);
    assert.deepEqual(queueFiles(home).filter((f) => f.endsWith(`/${id}`)), []);
    assert.deepEqual(queueFiles(home).filter((f) => f.endsWith(`/${other}`)), [`hold/${other % 23}/${other}`, `intd/${other}`, `mess/${other % 23}/${other}`, `todo/${other}`]);
  });

  it("waits for the spawners of a killed qm send (they hold lock/fence) before it changes anything", T, async () => {
    const { home, id } = await deferred(["tmp1@far.test"]);
    // this process stands for a spawner left running by a SIGKILLed qm send: it holds the fence for writing
    const fence = openSync(join(home, "queue", "lock", "fence"), constants.O_RDWR);
    let settled = false;
    const pending = qctl(home, "hold", String(id)).then((r) => ((settled = true), r));
    try {
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(settled, false, "qctl went on while a spawner of the old qm send could still start a delivery");
      assert.equal(existsSync(join(home, "queue", sp("hold", id))), false);
    } finally {
      closeSync(fence);
    }
    const r = await pending;
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, `held #${id}\n`, ""]);
    assert.equal(readFileSync(join(home, "queue", sp("hold", id)), "latin1"), "hold\n");
  });

  it("flushes: the next queue run tries the deferred recipient at once", T, async () => {
    const { home, id } = await deferred(["tmp1@far.test"]);
    const path = join(home, "queue", sp("remote", id));
    const later = Math.floor(Date.now() / 1000) + 5000;
    utimesSync(path, later, later);
    assert.match((await sendOnce(home)).stderr.toString(), /0 deliveries/);
    const f = await qctl(home, "flush", "--domain", "far.test");
    assert.deepEqual([f.code, f.stdout], [0, `flushed #${id}\n`]);
    assert.ok(statSync(path).mtimeMs / 1000 <= Date.now() / 1000 + 1);
    assert.match((await sendOnce(home)).stderr.toString(), /1 deliveries/);
    assert.equal((await qctl(home, "flush")).stdout, `flushed #${id}\n`);
  });

  it("requeues with today's controls: a domain taken out of locals goes remote", T, async () => {
    const home = await fakeHome({ locals: "example.test\nmoved.test", concurrencylocal: "0" });
    const id = await put(home, "joe@example.test", ["tmp1@moved.test", "tmp2@example.test", "tmp3@far.test"]);
    assert.equal((await sendOnce(home)).code, 0);
    assert.equal(channel(home, "local", id), "Ttmp1@moved.test\0Ttmp2@example.test\0");
    writeFileSync(join(home, "control", "locals"), "example.test\n");
    const r = await qctl(home, "requeue", "--all");
    assert.deepEqual([r.code, r.stdout], [0, `requeued #${id}\n`]);
    assert.equal(channel(home, "local", id), "Ttmp2@example.test\0");
    assert.equal(channel(home, "remote", id), "Ttmp1@moved.test\0Ttmp3@far.test\0");
    assert.deepEqual(queueFiles(home).filter((f) => f.includes(".requeue")), []);
  });

  it("bounces now: the sender gets a bounce with the reason, and the message is gone", T, async () => {
    const { home, id } = await deferred(["ok1@example.test", "tmp1@far.test", "tmp2@far.test"]);
    const r = await qctl(home, "bounce", "--reason", "Removed by the postmaster: spam run.", String(id));
    assert.equal(r.code, 0, r.stderr);
    const m = /^bounced #(\d+) \(bounce qp (\d+)\)\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const files = queueFiles(home);
    assert.equal(files.some((f) => f.endsWith(`/${id}`)), false, files.join(" "));
    const todo = readdirSync(join(home, "queue", "todo"));
    assert.equal(todo.length, 1);
    const bounce = readFileSync(join(home, "queue", sp("mess", Number(todo[0]))), "latin1");
    assert.match(bounce, /To: joe@example.test\n/);
    assert.match(bounce, /\n\ntmp1@far.test:\nRemoved by the postmaster: spam run.\n\ntmp2@far.test:\nRemoved by the postmaster: spam run.\n\n--- Below this line/);
    assert.doesNotMatch(bounce, /ok1@example.test:/);
    assert.match(readFileSync(join(home, "queue", "todo", todo[0]!), "latin1"), /\0Tjoe@example.test\0?$/);
  });

  it("works on a queue made before hold/ and defer/ existed, making them on first use", T, async () => {
    const { home, id } = await deferred(["tmp1@far.test"]);
    rmSync(join(home, "queue", "hold"), { recursive: true });
    rmSync(join(home, "queue", "defer"), { recursive: true });
    assert.equal((await qctl(home, "list")).code, 0);
    assert.equal((await runBin(["qread"], fakeEnv(home))).code, 0);
    assert.equal((await qctl(home, "hold", String(id))).code, 0);
    assert.equal(statSync(join(home, "queue", "hold")).mode & 0o777, 0o700);
    assert.equal(statSync(join(home, "queue", "hold", String(id % 23))).mode & 0o777, 0o700);
    assert.equal((await qctl(home, "release", String(id))).code, 0);
  });

  it("asks a running qm send, which makes the change", T, async () => {
    const { home, id } = await deferred(["tmp1@far.test"]);
    const d = await startDaemon(fakeEnv(home));
    try {
      await d.waitFor(/^status: local/);
      const r = await qctl(home, "hold", String(id));
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, `held #${id}\n`, ""]);
      assert.equal(readFileSync(join(home, "queue", sp("hold", id)), "latin1"), "hold\n");
      const l = await qctl(home, "list", "--json");
      assert.equal((JSON.parse(l.stdout) as { held: boolean }[])[0]?.held, true, "list only reads, and sees the mark");
    } finally {
      d.child.kill("SIGTERM");
      await d.exited;
    }
  });
});

describe("qm qctl with a queue run (qm send --once) holding the send mutex", { timeout: 300_000 }, () => {
  it("gets no answer on the control socket (a queue run does not listen), and is refused with 111 after its 10 s, changing nothing", T, async () => {
    const home = await fakeHome();
    const id = await put(home, "joe@example.test", ["slow20000-ok1@far.test"]);
    const run = runBin(["send", "--once"], fakeEnv(home));
    try {
      for (let i = 0; i < 200 && !existsSync(join(home, "queue", sp("remote", id))); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(existsSync(join(home, "queue/lock/sendmutex")), "the queue run holds the mutex");
      const r = await qctl(home, "hold", String(id));
      assert.equal(r.code, 111, r.stderr);
      assert.match(r.stderr, /^qm qctl: temporary: qm send is already running \(pid \d+\), but does not answer on lock\/control\/qctl; try again\. \(#4\.3\.0\)\n$/);
      assert.equal(existsSync(join(home, "queue", sp("hold", id))), false);
    } finally {
      assert.equal((await run).code, 0);
    }
  });
});

describe("qm qctl as a user who is neither root nor the queue's owner", { timeout: 300_000 }, () => {
  it("is refused with 100 and one clear line, and changes nothing", { ...T, skip: process.getuid?.() !== 0 ? "needs root to switch to another uid" : false }, async () => {
    const { home, id } = await deferred(["tmp1@far.test"]);
    chmodSync(join(home, ".."), 0o755);
    const before = queueFiles(home);
    const r = spawnSync(await fastQm(), ["qctl", "delete", String(id)], { env: { ...process.env, QMHOME: home }, uid: 65534, gid: 65534, encoding: "latin1", timeout: 30_000 });
    assert.equal(r.status, 100);
    assert.equal(r.stderr, "qm qctl: fatal: Permission denied: only root and the queue's owner may change the queue. (#5.7.1)\n");
    assert.deepEqual(queueFiles(home), before);
  });
  it("cannot reach a running qm send's control socket either: qctl refuses with 100, a bare connect() gets EACCES", { ...T, skip: process.getuid?.() !== 0 ? "needs root to switch to another uid" : false }, async () => {
    const { home, id } = await deferred(["tmp1@far.test"]);
    chmodSync(join(home, ".."), 0o755);
    const d = await startDaemon(fakeEnv(home));
    try {
      await d.waitFor(/^status: local/);
      const sock = join(home, "queue", "lock", "control", "qctl");
      for (let i = 0; i < 300 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100)); // it listens once its deliveries are under way
      assert.equal(statSync(join(sock, "..")).mode & 0o777, 0o700);
      assert.equal(statSync(sock).mode & 0o777, 0o600);
      const before = queueFiles(home);
      const r = spawnSync(await fastQm(), ["qctl", "hold", String(id)], { env: { ...process.env, QMHOME: home }, uid: 65534, gid: 65534, encoding: "latin1", timeout: 30_000 });
      assert.deepEqual([r.status, r.stderr], [100, "qm qctl: fatal: Permission denied: only root and the queue's owner may change the queue. (#5.7.1)\n"]);
      const connect = `require("net").createConnection(${JSON.stringify(sock)}).on("connect", () => { console.log("connected"); process.exit(0); }).on("error", (e) => { console.log(e.code); process.exit(0); })`;
      const c = spawnSync(process.execPath, ["-e", connect], { uid: 65534, gid: 65534, encoding: "latin1", timeout: 30_000 });
      assert.equal(c.stdout.trim(), "EACCES");
      assert.deepEqual(queueFiles(home), before);
    } finally {
      d.child.kill("SIGTERM");
      await d.exited;
    }
  });
});

function writeStatusFor(home: string, id: number): string {
  const birth = Math.floor(statSync(join(home, "queue", sp("info", id))).mtimeMs / 1000);
  return noteDeferrals(join(home, "queue"), id, birth, [{ channel: "remote", addr: "x@y", at: 1, next: 2, error: "e" }]).kind;
}
