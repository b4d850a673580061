import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { constants, openSync, readdirSync, readFileSync, closeSync, readSync, chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeHome, qmCommand, runQueue, tempDir } from "../support/qm.ts";
import { readDrop } from "../support/maildrop.ts";

function queueFiles(home: string, dir: string): string[] {
  return readdirSync(join(home, "queue", dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe("qm queue", { timeout: 300_000 }, () => {
  it("writes mess, intd and todo with qmail-queue's Received line and records, and exits 0", async () => {
    const home = await makeHome();
    const r = await runQueue("Subject: hi\n\nbody\n", "Fa@example.test\0Tb@example.test\0Tc@x.test\0\0", { QMHOME: home });
    assert.equal(r.code, 0, r.stderr);
    const todo = readdirSync(join(home, "queue/todo"));
    assert.equal(todo.length, 1);
    const id = Number(todo[0]);
    const mess = readFileSync(join(home, "queue/mess", String(id % 23), String(id)), "latin1");
    assert.match(mess, /^Received: \(qmail \d+ invoked by uid 0\); \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d -0000\nSubject: hi\n\nbody\n$/);
    const rec = readFileSync(join(home, "queue/todo", todo[0]!), "latin1");
    assert.match(rec, /^u0\0p\d+\0Fa@example\.test\0Tb@example\.test\0Tc@x\.test\0$/);
    assert.equal(readFileSync(join(home, "queue/intd", todo[0]!), "latin1"), rec);
    assert.deepEqual(queueFiles(home, "pid"), []);
  });

  it("accepts zero recipients and the null sender", async () => {
    const home = await makeHome();
    const r = await runQueue("x\n", "F\0\0", { QMHOME: home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readdirSync(join(home, "queue/todo")).length, 1);
  });

  const FAILURES = [
    ["an envelope that does not start with F", "Xa@b\0\0", 91],
    ["a T record replaced by another letter", "Fa@b\0Qc@d\0\0", 91],
    ["an envelope cut short", "Fa@b\0Tc@d\0", 54],
    ["an empty envelope", "", 54],
    ["an address of 1003 bytes", `F\0T${"a".repeat(1003)}\0\0`, 11],
  ] as const;
  for (const [what, envelope, code] of FAILURES) {
    it(`exits ${code} for ${what} and leaves nothing in the queue`, async () => {
      const home = await makeHome();
      const r = await runQueue("Subject: x\n\nbody\n", envelope, { QMHOME: home });
      assert.equal(r.code, code, r.stderr);
      for (const dir of ["todo", "intd", "mess", "pid"]) assert.deepEqual(queueFiles(home, dir), [], dir);
    });
  }

  it("exits 61-class temporary when the home has no queue", async () => {
    const r = await runQueue("x\n", "Fa@b\0Tc@d\0\0", { QMHOME: join(tempDir(), "missing") });
    assert.ok(r.code !== null && r.code > 40 && r.code < 100, `code ${r.code}`);
  });

  it("pulls the trigger: a reader of lock/trigger wakes with a byte", async () => {
    const home = await makeHome();
    const fd = openSync(join(home, "queue/lock/trigger"), constants.O_RDWR | constants.O_NONBLOCK);
    try {
      const r = await runQueue("x\n", "Fa@b\0Tc@d\0\0", { QMHOME: home });
      assert.equal(r.code, 0);
      const buf = Buffer.alloc(16);
      assert.ok(readSync(fd, buf, 0, 16, null) >= 1);
    } finally {
      closeSync(fd);
    }
  });

  it("writes into maildrop/ when run by a user who does not own the queue", { skip: process.getuid?.() !== 0 && "needs root to run as nobody" }, async () => {
    const home = await makeHome();
    chmodSync(join(home, ".."), 0o755); // mkdtemp makes 0700: let nobody reach the home
    const r = await runQueue("Subject: drop\n\nx\n", "Fa@b\0Tc@d\0\0", { QMHOME: home, HOME: "/tmp" }, qmCommand(), 65534);
    assert.equal(r.code, 0, r.stderr);
    const dropped = readdirSync(join(home, "queue/maildrop")).filter((n) => !n.startsWith("."));
    assert.equal(dropped.length, 1);
    assert.deepEqual(readdirSync(join(home, "queue/todo")), []);
    assert.deepEqual(readDrop(join(home, "queue/maildrop", dropped[0]!)), { message: "Subject: drop\n\nx\n", envelope: "Fa@b\0Tc@d\0\0" });
  });

  it("runs $QMAILQUEUE instead when submit() is asked to queue", async () => {
    const home = await makeHome();
    const out = join(tempDir(), "qq-out");
    const script = join(tempDir(), "fake-qq");
    writeFileSync(script, `#!/bin/sh\ncat > ${out}.msg\ncat <&1 > ${out}.env\nexit 0\n`, { mode: 0o755 });
    const { submit } = await import("../../core/io/queue/submit.ts");
    const r = await submit(home, new TextEncoder().encode("hello\n"), { sender: "s@x", recipients: ["r@y"] }, { env: { QMAILQUEUE: script } });
    assert.equal(r.kind, "ok");
    assert.equal(readFileSync(`${out}.msg`, "latin1"), "hello\n");
    assert.equal(readFileSync(`${out}.env`, "latin1"), "Fs@x\0Tr@y\0\0");
    writeFileSync(script, "#!/bin/sh\ncat >/dev/null\nexit 31\n", { mode: 0o755 });
    const refused = await submit(home, new TextEncoder().encode("x\n"), { sender: "", recipients: ["r@y"] }, { env: { QMAILQUEUE: script } });
    assert.equal(refused.kind, "perm");
    writeFileSync(script, `#!/bin/sh\ncat > ${out}.cut\ncat <&1 > ${out}.cutenv\n[ -s ${out}.cutenv ] || exit 54\nexit 0\n`, { mode: 0o755 });
    async function* cutShort() {
      yield new TextEncoder().encode("Subject: half\n\nfirst part\n");
      throw new Error("client went away");
    }
    const cut = await submit(home, cutShort(), { sender: "", recipients: ["r@y"] }, { env: { QMAILQUEUE: script } });
    assert.equal(cut.kind, "temp", "a message cut short is never queued");
    assert.equal(readFileSync(`${out}.cutenv`, "latin1"), "", "the queue program saw no envelope");
    writeFileSync(script, "#!/bin/sh\ncat >/dev/null\nexit 53\n", { mode: 0o755 });
    assert.equal((await submit(home, new TextEncoder().encode("x\n"), { sender: "", recipients: ["r@y"] }, { env: { QMAILQUEUE: script } })).kind, "temp");
  });

  it("runs $QMAILQUEUE whatever the home: a home that does not exist (qm local's default) is not the queue program's business", async () => {
    const out = join(tempDir(), "qq-out");
    const script = join(tempDir(), "fake-qq");
    writeFileSync(script, `#!/bin/sh\ncat > ${out}.msg\ncat <&1 > ${out}.env\nexit 0\n`, { mode: 0o755 });
    const { submit } = await import("../../core/io/queue/submit.ts");
    const r = await submit(join(tempDir(), "no-such-home"), new TextEncoder().encode("hi\n"), { sender: "s@x", recipients: ["r@y"] }, { env: { QMAILQUEUE: script } });
    assert.equal(r.kind, "ok", JSON.stringify(r));
    assert.equal(readFileSync(`${out}.env`, "latin1"), "Fs@x\0Tr@y\0\0");
  });
});
