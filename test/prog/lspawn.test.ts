import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { qmCommand, runQm, tempDir } from "../support/qm.ts";

// qm lspawn speaks the spawn protocol; as root it delivers as uid 65534
// through a reused local-worker. Not root: it delivers as the invoking user.
const ROOT_RUN = process.getuid?.() === 0;
const UID = ROOT_RUN ? 65534 : process.getuid!();

function setup() {
  const top = tempDir("qm-lspawn-");
  chmodSync(top, 0o755);
  const qm = join(top, "qm");
  for (const d of ["", "control", "users", "alias", "queue", "queue/mess", "queue/mess/7"]) mkdirSync(join(qm, d), { mode: 0o755 });
  const user = join(top, "user");
  for (const d of ["", "Maildir", "Maildir/tmp", "Maildir/new", "Maildir/cur"]) mkdirSync(join(user, d), { mode: 0o755 });
  for (const d of ["", "Maildir", "Maildir/tmp", "Maildir/new", "Maildir/cur"]) chownSync(join(user, d), UID, UID);
  chownSync(join(qm, "alias"), UID, UID);
  writeFileSync(join(qm, "users/assign"), `=bob:bob:${UID}:${UID}:${user}:::\n+bob-:bob:${UID}:${UID}:${user}:-::\n.\n`);
  const mess = join(qm, "queue/mess/7/4242");
  writeFileSync(mess, "Subject: hi\n\nbody\n");
  const passwd = join(top, "passwd");
  writeFileSync(passwd, `root:x:0:0:root:/root:/bin/sh\n`);
  return { qm, user, mess, env: { QMHOME: qm, QM_PASSWD: passwd } };
}

/** Runs qm lspawn with `commands` on stdin; the reports by slot. */
function lspawn(env: NodeJS.ProcessEnv, commands: string[][]): Promise<Map<string, string>> {
  const { cmd, args } = qmCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args, "lspawn"], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "inherit"] });
    const out: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.on("error", reject);
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000); // 30 concurrent deliveries took over 30 s with the machine's load at 30
    child.on("close", () => {
      clearTimeout(timer);
      const f = Buffer.concat(out).toString("latin1").split("\0");
      const m = new Map<string, string>();
      for (let i = 0; i + 1 < f.length; i += 2) m.set(f[i]!, f[i + 1]!);
      resolve(m);
    });
    child.stdin.end(commands.map((c) => c.map((x) => `${x}\0`).join("")).join(""));
  });
}

describe("qm lspawn", { timeout: 600_000 }, () => {
  it("resolves users/cdb, delivers through workers and reports K/Z/D per slot", async () => {
    const s = setup();
    assert.equal((await runQm(["newu"], { env: s.env })).code, 0);
    writeFileSync(join(s.qm, "alias/.qmail-postmaster"), "./pm-mbox\n");
    const r = await lspawn(s.env, [
      ["1", s.mess, "a@b", "bob@example.test"],
      ["2", s.mess, "a@b", "Bob-Ext@example.test"],
      ["3", s.mess, "a@b", "nohost"],
      ["4", s.mess, "a@b", "stranger@example.test"],
      ["5", s.mess, "a@b", "postmaster@example.test"],
      ["6", "/etc/passwd", "a@b", "bob@example.test"],
      ["7", s.mess, "a@b", "@example.test"],
      ["x", s.mess, "a@b", "bob@example.test"],
    ]);
    assert.equal(r.get("1"), "Kdid 1+0+0\n");
    assert.match(r.get("2")!, /^D.*#5\.1\.1/, "bob-ext has no .qmail-ext");
    assert.equal(r.get("3"), "DSorry, address must include host name. (#5.1.3)\n");
    assert.match(r.get("4")!, /^D.*no mailbox/);
    assert.equal(r.get("5"), "Kdid 1+0+0\n");
    assert.match(r.get("6")!, /^Z/);
    assert.equal(r.get("7"), "K");
    assert.match(r.get("x")!, /^Z/);
    assert.equal(readdirSync(join(s.user, "Maildir/new")).length, 1);
  });

  it("sends root to the alias user, never delivering as uid 0", async () => {
    const s = setup();
    writeFileSync(join(s.qm, "alias/.qmail-root"), "./root-mbox\n");
    const r = await lspawn(s.env, [["1", s.mess, "a@b", "root@example.test"]]);
    assert.equal(r.get("1"), "Kdid 1+0+0\n");
    assert.deepEqual(readdirSync(join(s.qm, "alias")).sort(), [".qmail-root", "root-mbox"]);
  });

  it("reports Z when the alias home belongs to root", { skip: ROOT_RUN ? false : "needs root" }, async () => {
    const s = setup();
    chownSync(join(s.qm, "alias"), 0, 0);
    const r = await lspawn(s.env, [["1", s.mess, "a@b", "x@example.test"]]);
    assert.match(r.get("1")!, /^ZUnable to find alias user/);
  });

  it("runs many deliveries concurrently and reports each once", async () => {
    const s = setup();
    await runQm(["newu"], { env: s.env });
    writeFileSync(join(s.user, ".qmail"), "./Maildir/\n|echo $PPID >> ppids\n");
    const cmds = Array.from({ length: 30 }, (_, i) => [String(i), s.mess, "a@b", "bob@example.test"]);
    const t0 = Date.now();
    const r = await lspawn(s.env, cmds);
    assert.equal(r.size, 30);
    for (const v of r.values()) assert.equal(v, "Kdid 1+0+1\n");
    assert.equal(readdirSync(join(s.user, "Maildir/new")).length, 30);
    const ppids = new Set(readFileSync(join(s.user, "ppids"), "latin1").trim().split("\n"));
    assert.equal(ppids.size, 1, "one reused worker ran every delivery");
    assert.ok(Date.now() - t0 < 100_000); // wall time: bounded, not a benchmark (one worker is the check above)
  });

  it("delivers a message over 4 MiB through one qm local", async () => {
    const s = setup();
    await runQm(["newu"], { env: s.env });
    writeFileSync(s.mess, `Subject: big\n\n${"x".repeat(100)}\n`.repeat(50_000));
    const r = await lspawn(s.env, [["1", s.mess, "a@b", "bob@example.test"]]);
    assert.equal(r.get("1"), "Kdid 1+0+0\n");
  });
});
