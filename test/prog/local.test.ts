import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runQm, tempDir } from "../support/qm.ts";

// qm local end to end. As root (CI) every delivery runs as uid 65534 into a
// home owned by 65534; otherwise as the invoking user.
const ROOT_RUN = process.getuid?.() === 0;
const UID = ROOT_RUN ? 65534 : process.getuid!();
const GID = ROOT_RUN ? 65534 : process.getgid!();
const MSG = "From: a@b\nSubject: test\n\nFrom the body\nline two\n";

function userHome(): string {
  const top = tempDir("qm-local-");
  chmodSync(top, 0o755);
  const home = join(top, "home");
  mkdirSync(home, { mode: 0o755 });
  for (const d of ["Maildir", "Maildir/tmp", "Maildir/new", "Maildir/cur"]) mkdirSync(join(home, d));
  own(home);
  return home;
}
function own(...paths: string[]): void {
  for (const p of paths) chownSync(p, UID, GID);
  for (const d of ["Maildir", "Maildir/tmp", "Maildir/new", "Maildir/cur"]) if (existsSync(join(paths[0]!, d))) chownSync(join(paths[0]!, d), UID, GID);
}
function dotQmail(home: string, name: string, text: string, mode = 0o644): void {
  writeFileSync(join(home, name), text);
  chmodSync(join(home, name), mode);
}
function local(home: string, a: { local?: string; dash?: string; ext?: string; sender?: string; dd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const args = ["local", "--", "bob", home, a.local ?? "bob", a.dash ?? "", a.ext ?? "", "example.test", a.sender ?? "s@x.org", a.dd ?? "./Maildir/"];
  return runQm(args, { input: a.input ?? MSG, env: a.env });
}
function maildir(home: string): string[] {
  return readdirSync(join(home, "Maildir/new")).sort().map((n) => readFileSync(join(home, "Maildir/new", n), "latin1"));
}

describe("qm local", { timeout: 600_000 }, () => {
  it("defers an lmtp: line that is no route, or whose server is not there (never a forward)", async () => {
    const home = userHome();
    dotQmail(home, ".qmail", "lmtp:somehost:24\n");
    const bad = await local(home);
    assert.equal(bad.code, 111);
    assert.equal(bad.stdout.toString(), "Unable to use .qmail line lmtp:somehost:24: not an LMTP route. (#4.2.1)\n");
    dotQmail(home, ".qmail", `lmtp:unix:${join(home, "none")}\n`);
    const down = await local(home);
    assert.equal(down.code, 111);
    assert.match(down.stdout.toString(), /^Unable to connect to LMTP server unix:.*none: ENOENT\. \(#4\.4\.1\)\n$/);
  });
  it("honours QM_QUOTA (a virtual user's quota) in its Maildir deliveries: 5.2.2 when over", async () => {
    const home = userHome();
    const ok1 = await local(home, { env: { QM_QUOTA: "200S" } });
    assert.equal(ok1.code, 0, ok1.stdout.toString());
    assert.match(readFileSync(join(home, "Maildir", "maildirsize"), "latin1"), /^200S\n0 0\n\d+ 1\n$/);
    const over = await local(home, { env: { QM_QUOTA: "200S" } });
    assert.equal(over.code, 100);
    assert.match(over.stdout.toString(), /^The mailbox is full: \d+ of 200 bytes .*\(#5\.2\.2\)\n$/);
  });
  it("delivers to the default Maildir byte for byte, as the home's owner", async () => {
    const home = userHome();
    const r = await local(home);
    assert.equal(r.code, 0, r.stdout.toString());
    assert.equal(r.stdout.toString(), "did 1+0+0\n");
    assert.deepEqual(maildir(home), [`Return-Path: <s@x.org>\nDelivered-To: bob@example.test\n${MSG}`]);
    const name = readdirSync(join(home, "Maildir/new"))[0]!;
    assert.equal(statSync(join(home, "Maildir/new", name)).uid, UID);
  });

  it("runs every line type: comment, Maildir, mbox, program", async () => {
    const home = userHome();
    dotQmail(home, ".qmail-x-default", "# comment\n./Maildir/\n./mbox\n|env > env.txt; cat > stdin.txt\n");
    const r = await local(home, { local: "bob-x-Y.z", dash: "-", ext: "x-Y.z", sender: "a b@c" });
    assert.equal(r.code, 0, r.stdout.toString());
    assert.equal(r.stdout.toString(), "did 2+0+1\n");
    assert.equal(maildir(home)[0], `Return-Path: <"a b"@c>\nDelivered-To: bob-x-Y.z@example.test\n${MSG}`);
    const mbox = readFileSync(join(home, "mbox"), "latin1");
    assert.match(mbox, /^From a-b@c \w{3} \w{3} \d\d \d\d:\d\d:\d\d \d{4}\n/);
    assert.equal(mbox.slice(mbox.indexOf("\n") + 1), `Return-Path: <"a b"@c>\nDelivered-To: bob-x-Y.z@example.test\nFrom: a@b\nSubject: test\n\n>From the body\nline two\n\n`);
    assert.equal(readFileSync(join(home, "stdin.txt"), "latin1"), MSG);
    const env = new Map(readFileSync(join(home, "env.txt"), "latin1").split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    const want: Record<string, string> = {
      SENDER: "a b@c", NEWSENDER: "a b@c", RECIPIENT: "bob-x-Y.z@example.test", USER: "bob", HOME: home, HOST: "example.test",
      HOST2: "example", HOST3: "example.test", LOCAL: "bob-x-Y.z", EXT: "x-Y.z", EXT2: "Y.z", EXT3: "", DEFAULT: "Y.z",
      DTLINE: "Delivered-To: bob-x-Y.z@example.test",
    };
    for (const [k, v] of Object.entries(want)) assert.equal(env.get(k), v, k);
  });

  it("looks up .qmail-ext, then -default from the most specific", async () => {
    const home = userHome();
    dotQmail(home, ".qmail-default", "./def\n");
    dotQmail(home, ".qmail-a-default", "./a-def\n");
    await local(home, { local: "bob-a-b-c", dash: "-", ext: "a-b-c" });
    assert.ok(existsSync(join(home, "a-def")) && !existsSync(join(home, "def")));
    dotQmail(home, ".qmail-a-b-c", "./exact\n");
    await local(home, { local: "bob-a-b-c", dash: "-", ext: "A-B-C" });
    assert.ok(existsSync(join(home, "exact")));
    await local(home, { local: "bob-zz", dash: "-", ext: "zz" });
    assert.ok(existsSync(join(home, "def")));
  });

  it("bounces an extension without a .qmail (#5.1.1) and uses defaultdelivery for an empty .qmail", async () => {
    const home = userHome();
    const r = await local(home, { local: "bob-none", dash: "-", ext: "none" });
    assert.equal(r.code, 100);
    assert.match(r.stdout.toString(), /no mailbox.*#5\.1\.1/);
    dotQmail(home, ".qmail", "");
    assert.equal((await local(home, { dd: "./dd-mbox" })).code, 0);
    assert.ok(existsSync(join(home, "dd-mbox")));
  });

  it("detects a loop: its own Delivered-To line fails permanently", async () => {
    const home = userHome();
    const r = await local(home, { input: `Received: x\nDelivered-To: bob@example.test\n${MSG}` });
    assert.equal(r.code, 100);
    assert.match(r.stdout.toString(), /#5\.4\.6/);
    assert.deepEqual(maildir(home), []);
    assert.equal((await local(home, { input: `Subject: x\n\nDelivered-To: bob@example.test\n` })).code, 0, "a body line is no loop");
  });

  it("kills a program over control/timeoutlocal with its whole process group, and defers the delivery", async () => {
    const home = userHome();
    const top = tempDir();
    chmodSync(top, 0o755); // qm local reads the control file as the home's owner
    const qm = join(top, "qm");
    mkdirSync(join(qm, "control"), { recursive: true });
    writeFileSync(join(qm, "control", "timeoutlocal"), "2\n");
    dotQmail(home, ".qmail", "|sleep 300 & echo $! > bg.pid; echo $$ > fg.pid; exec sleep 301\n");
    const started = Date.now();
    const r = await local(home, { env: { QMHOME: qm } });
    assert.equal(r.code, 111, r.stdout.toString());
    assert.match(r.stdout.toString(), /Program timed out after 2 seconds \(control\/timeoutlocal\); its process group was killed/);
    assert.ok(Date.now() - started < 60_000, "not the 300 s the program wanted");
    for (const f of ["fg.pid", "bg.pid"]) {
      const pid = Number(readFileSync(join(home, f), "latin1"));
      assert.ok(pid > 1, f);
      // gone, or a zombie: an orphan's parent here is a PID 1 that does not reap
      const state = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "latin1").replace(/^.*\) /s, "")[0] : "gone";
      assert.ok(state === "gone" || state === "Z", `${f}: ${pid} is still running (state ${state})`);
    }
    assert.deepEqual(maildir(home), []);
  });

  it("maps program exits 0, 99, 100, 111 and stops at the first failure", async () => {
    const home = userHome();
    const cases = [[0, 0, true], [99, 0, false], [100, 100, false], [111, 111, false], [7, 111, false]] as const;
    for (const [exit, want, after] of cases) {
      dotQmail(home, ".qmail", `|exit ${exit}\n./after-${exit}\n`);
      const r = await local(home);
      assert.equal(r.code, want, `exit ${exit}: ${r.stdout}`);
      assert.equal(existsSync(join(home, `after-${exit}`)), after, `exit ${exit}`);
    }
  });

  it("defers on a .qmail writable by group, a writable home, and file lines under the x bit", async () => {
    const home = userHome();
    dotQmail(home, ".qmail", "./m\n", 0o664);
    assert.equal((await local(home)).code, 111);
    dotQmail(home, ".qmail", "./m\n", 0o744);
    const x = await local(home);
    assert.equal(x.code, 111);
    assert.match(x.stdout.toString(), /x bit/);
    dotQmail(home, ".qmail", "./m\n", 0o644);
    chmodSync(home, 0o757);
    assert.equal((await local(home)).code, 111);
    assert.ok(!existsSync(join(home, "m")));
  });

  it("keeps hostile extensions inside the home", async () => {
    const home = userHome();
    dotQmail(home, ".qmail-default", "./caught\n");
    for (const ext of ["../x", ".x", "a/b", "..", "x".repeat(1024), "a/../../etc"]) {
      const r = await local(home, { local: `bob-${ext}`, dash: "-", ext });
      assert.equal(r.code, 0, `${ext.slice(0, 20)}: ${r.stdout}`);
    }
    const n = readFileSync(join(home, "caught"), "latin1").split("\nReturn-Path:").length;
    assert.equal(n, 7); // six messages, each with its own Return-Path line
    const r = await local(home, { local: "bob", dash: "-", ext: "a\0b" }).catch((e: Error) => e);
    assert.ok(r instanceof Error || r.code === 100, "a NUL never reaches a file name");
  });

  it("refuses to deliver as root and into a home it does not own", { skip: ROOT_RUN ? false : "needs root" }, async () => {
    const home = userHome();
    chownSync(home, 0, 0);
    const r = await local(home);
    assert.equal(r.code, 111);
    assert.match(r.stdout.toString(), /root/);
  });
});
