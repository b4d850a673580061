import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, readdirSync, readFileSync, renameSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeHome, qmCommand, runProcess, runQm, tempDir } from "../support/qm.ts";

const CLEAN = { QMAILUSER: "", MAILUSER: "", QMAILHOST: "", MAILHOST: "", QMAILSUSER: "", QMAILSHOST: "", QMAILINJECT: "", QMAILQUEUE: "", USER: "joe" };
const QREAD_LINE = /^\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT {2}#(\d+) {2}(\d+) {2}<([^>]*)> ( bouncing)?$/;

describe("issue 2, done when (tried as a new user would)", { timeout: 300_000 }, () => {
  it("init, inject to alice, qstat, qread, then inject without recipients fails with 100", async () => {
    const home = join(tempDir(), "qm");
    const env = { ...CLEAN, QMHOME: home };
    const init = await runQm(["init", "--me", "example.test"], { env });
    assert.equal(init.code, 0, init.stderr.toString());
    const inj = await runQm(["inject", "alice@example.test"], { input: "Subject: hi\n\nbody\n", env });
    assert.equal(inj.code, 0, inj.stderr.toString());
    const qstat = await runQm(["qstat"], { env });
    assert.equal(qstat.code, 0);
    assert.equal(qstat.stdout.toString(), "messages in queue: 1\nmessages in queue but not yet preprocessed: 1\n");
    const qread = await runQm(["qread"], { env });
    assert.equal(qread.code, 0, qread.stderr.toString());
    const lines = qread.stdout.toString().split("\n");
    const m = QREAD_LINE.exec(lines[0]!);
    assert.ok(m, lines[0]);
    assert.equal(m[3], "joe@example.test");
    assert.deepEqual(lines.slice(1), ["\ttodo\talice@example.test", ""]);
    const none = await runQm(["inject"], { input: "Subject: hi\n\nbody\n", env });
    assert.equal(none.code, 100);
    assert.equal(none.stderr.toString(), "qm inject: fatal: No recipients. (#5.1.3)\n");
    assert.equal((await runQm(["qstat"], { env })).stdout.toString(), "messages in queue: 1\nmessages in queue but not yet preprocessed: 1\n");
  });
});

describe("qm qread | head", { timeout: 120_000 }, () => {
  it("stops quietly with 0 when the reader goes away (mailq | head)", async () => {
    const home = await makeHome();
    const rcpts = Array.from({ length: 6000 }, (_, i) => `${"r".repeat(20)}${i}@example.test`); // a listing far over a pipe's 64 KiB
    const inj = await runQm(["inject", "-f", "a@b.test", "--", ...rcpts], { input: "Subject: x\n\nb\n", env: { QMHOME: home } });
    assert.equal(inj.code, 0, inj.stderr.toString());
    const dir = tempDir();
    const { cmd, args } = qmCommand();
    const script = `{ "$@" sendmail -bp 2>"${dir}/err"; echo $? >"${dir}/rc"; } | head -n 1`;
    const r = await runProcess("sh", ["-c", script, "sh", cmd, ...args], { env: { QMHOME: home }, timeoutMs: 60_000 });
    assert.equal(r.code, 0);
    assert.match(r.stdout.toString(), /^\d{1,2} [A-Z][a-z]{2} \d{4} .*<a@b\.test> \n$/);
    assert.equal(readFileSync(join(dir, "err"), "latin1"), "", "no error on stderr");
    assert.equal(readFileSync(join(dir, "rc"), "latin1"), "0\n");
  });
});

describe("qm qread", { timeout: 300_000 }, () => {
  it("lists a preprocessed message from info/, local/, remote/ and bounce/ in qmail's format", async () => {
    const home = await makeHome();
    const env = { ...CLEAN, QMHOME: home };
    assert.equal((await runQm(["inject", "-f", "s\u00e9nder@x.test", "a@example.test", "b@far.test"], { input: "Subject: x\n\nb\n", env })).code, 0);
    // what qm send's preprocessing leaves: todo/ gone, info + channel files written, one local recipient done
    const q = join(home, "queue");
    const id = Number(readdirSync(join(q, "todo"))[0]);
    const split = String(id % 23);
    unlinkSync(join(q, "todo", String(id)));
    unlinkSync(join(q, "intd", String(id)));
    writeFileSync(join(q, "info", split, String(id)), "Fs\xe9nder@x.test\0", "latin1");
    writeFileSync(join(q, "local", split, String(id)), "Da@example.test\0Tc@example.test\0");
    writeFileSync(join(q, "remote", split, String(id)), "Tb@far.test\0");
    writeFileSync(join(q, "bounce", String(id)), "");
    const birth = Date.UTC(2026, 2, 4, 5, 6, 7) / 1000;
    utimesSync(join(q, "info", split, String(id)), birth, birth);
    const r = await runQm(["qread"], { env });
    assert.equal(r.code, 0, r.stderr.toString());
    const size = r.stdout.toString().match(/#\d+ {2}(\d+)/)?.[1];
    assert.equal(r.stdout.toString(), `4 Mar 2026 05:06:07 GMT  #${id}  ${size}  <s_nder@x.test>  bouncing\n  done\tlocal\ta@example.test\n\tlocal\tc@example.test\n\tremote\tb@far.test\n`);
    assert.equal((await runQm(["qstat"], { env })).stdout.toString(), "messages in queue: 1\nmessages in queue but not yet preprocessed: 0\n");
  });

  it("stops quietly when the listing can no longer be written (the reader has what it wanted)", async () => {
    const home = await makeHome();
    const env = { ...CLEAN, QMHOME: home };
    for (const to of ["a@x.test", "b@x.test"]) assert.equal((await runQm(["inject", to], { input: "\n", env })).code, 0);
    const { qread } = await import("../../core/prog/qread.ts");
    const seen: string[] = [];
    const r = await qread(home, (text) => (seen.push(text), false));
    assert.deepEqual(r, { kind: "ok", value: { messages: 1 } });
    assert.equal(seen.length, 1, "no more writes after the first refused one");
    const all = await qread(home, () => true);
    assert.deepEqual(all, { kind: "ok", value: { messages: 2 } });
  });

  it("prints nothing for an empty queue and exits 0", async () => {
    const home = await makeHome();
    const r = await runQm(["qread"], { env: { QMHOME: home } });
    assert.deepEqual([r.code, r.stdout.toString()], [0, ""]);
  });

  it("warns about one damaged message and goes on with the others", async () => {
    const home = await makeHome();
    const env = { ...CLEAN, QMHOME: home };
    for (const to of ["a@x.test", "b@x.test"]) assert.equal((await runQm(["inject", to], { input: "\n", env })).code, 0);
    const q = join(home, "queue");
    const [first, second] = readdirSync(join(q, "todo")).sort((a, b) => Number(a) - Number(b));
    const other = /\0T([^\0]*)\0$/.exec(readFileSync(join(q, "todo", second!), "latin1"))?.[1];
    writeFileSync(join(q, "todo", first!), "garbage");
    const r = await runQm(["qread"], { env });
    assert.equal(r.code, 0);
    const out = r.stdout.toString();
    assert.match(out, new RegExp(`^warning: trouble with #${first}: damaged todo file\n`));
    assert.ok(other && out.endsWith(`\n\ttodo\t${other}\n`), out);
    assert.equal(out.split("\n").length, 4, out);
  });

  it("exits 111 with one line on stderr when the queue cannot be read", async () => {
    const home = await makeHome();
    renameSync(join(home, "queue/todo"), join(home, "queue/todo.gone"));
    for (const sub of ["qread", "qstat"]) {
      const r = await runQm([sub], { env: { QMHOME: home } });
      assert.equal(r.code, 111, sub);
      assert.match(r.stderr.toString(), new RegExp(`^qm ${sub}: temporary: Unable to read .*\n$`));
    }
  });

  it("counts finished maildrop submissions in qstat", async () => {
    const home = await makeHome();
    chmodSync(join(home, "queue/maildrop"), 0o1733);
    writeFileSync(join(home, "queue/maildrop/123.1.ab"), "Fa\0Tb\0\0\n");
    writeFileSync(join(home, "queue/maildrop/.124.1.cd"), "half");
    const r = await runQm(["qstat"], { env: { QMHOME: home } });
    assert.equal(r.stdout.toString(), "messages in queue: 0\nmessages in queue but not yet preprocessed: 0\nmessages in maildrop not yet taken in: 1\n");
  });
});
