import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, lstatSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fastQm, PASSWD, runQm, tempDir } from "../support/qm.ts";
import { TABLE_SIZE } from "../../core/lib/remote/tcpto.ts";

describe("qm init", { timeout: 300_000 }, () => {
  it("creates control/ with qmail's defaults, the queue layout with its modes, users/ and alias/", async () => {
    const home = join(tempDir(), "qm");
    const r = await runQm(["init", "--me", "mx.example.test"], { env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr.toString());
    const control = (name: string) => readFileSync(join(home, "control", name), "utf8");
    assert.equal(control("me"), "mx.example.test\n");
    assert.equal(control("locals"), "mx.example.test\nlocalhost\n");
    assert.equal(control("rcpthosts"), "mx.example.test\nlocalhost\n");
    assert.equal(control("defaultdelivery"), "./Maildir/\n");
    const mode = (rel: string) => lstatSync(join(home, "queue", rel)).mode & 0o7777;
    assert.equal(mode("pid"), 0o700);
    assert.equal(mode("todo"), 0o750);
    assert.equal(mode("mess/22"), 0o750);
    assert.equal(mode("info/0"), 0o700);
    assert.equal(mode("hold/22"), 0o700, "qm qctl's hold marks");
    assert.equal(mode("defer/0"), 0o700, "qm send's status records");
    assert.equal(mode("maildrop"), 0o1733);
    assert.ok(lstatSync(join(home, "queue/lock/trigger")).isFIFO());
    assert.equal(mode("lock/trigger"), 0o622);
    for (const f of [".qmail-postmaster", ".qmail-mailer-daemon", ".qmail-root"]) assert.ok(lstatSync(join(home, "alias", f)).isFile());
    assert.ok(lstatSync(join(home, "users")).isDirectory());
    if (process.getuid?.() === 0) assert.notEqual(lstatSync(join(home, "alias")).uid, 0, "the alias home must not belong to root");
  });

  it("is idempotent and never overwrites a control file", async () => {
    const home = join(tempDir(), "qm");
    assert.equal((await runQm(["init", "--me", "a.test"], { env: { QMHOME: home } })).code, 0);
    writeFileSync(join(home, "control", "locals"), "edited.test\n");
    const again = await runQm(["init", "--me", "b.test"], { env: { QMHOME: home } });
    assert.equal(again.code, 0, again.stderr.toString());
    assert.equal(readFileSync(join(home, "control", "me"), "utf8"), "a.test\n");
    assert.equal(readFileSync(join(home, "control", "locals"), "utf8"), "edited.test\n");
    assert.match(again.stderr.toString(), /^warning: control\/me stays "a\.test"; to change this host's name to b\.test, run qm init --me b\.test --rename$/m);
  });

  it("--rename rewrites the old name in me, locals, rcpthosts, defaulthost and defaultdomain, and nothing else", async () => {
    const home = join(tempDir(), "qm");
    assert.equal((await runQm(["init", "--me", "vm"], { env: { QMHOME: home } })).code, 0);
    const c = (name: string) => join(home, "control", name);
    writeFileSync(c("locals"), "vm\nlocalhost\nother.test\nVM\n");
    writeFileSync(c("defaulthost"), "vm\n");
    writeFileSync(c("defaultdomain"), "example.test\n");
    writeFileSync(c("virtualdomains"), "vm:alias\n");
    const r = await runQm(["init", "--me", "vm.example.test", "--rename"], { env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(readFileSync(c("me"), "utf8"), "vm.example.test\n");
    assert.equal(readFileSync(c("locals"), "utf8"), "vm.example.test\nlocalhost\nother.test\nvm.example.test\n");
    assert.equal(readFileSync(c("rcpthosts"), "utf8"), "vm.example.test\nlocalhost\n");
    assert.equal(readFileSync(c("defaulthost"), "utf8"), "vm.example.test\n");
    assert.equal(readFileSync(c("defaultdomain"), "utf8"), "example.test\n", "a different name stays");
    assert.equal(readFileSync(c("virtualdomains"), "utf8"), "vm:alias\n", "only the files that name the host");
    const err = r.stderr.toString();
    for (const f of ["me", "locals", "rcpthosts", "defaulthost"]) assert.match(err, new RegExp(`^control/${f}: vm -> vm\\.example\\.test$`, "m"));
    assert.doesNotMatch(err, /defaultdomain|warning/);
  });

  it("--rename without --me is refused with 100", async () => {
    const r = await runQm(["init", "--rename"], { env: { QMHOME: join(tempDir(), "qm") } });
    assert.equal(r.code, 100);
    assert.match(r.stderr.toString(), /--rename needs --me NAME/);
  });

  it("warns when control/me has no dot", async () => {
    const r = await runQm(["init", "--me", "vm"], { env: { QMHOME: join(tempDir(), "qm") } });
    assert.equal(r.code, 0);
    assert.match(r.stderr.toString(), /^warning: control\/me is "vm", a name without a dot: .*qm init --me NAME --rename$/m);
    const dotted = await runQm(["init", "--me", "vm.example.test"], { env: { QMHOME: join(tempDir(), "qm") } });
    assert.doesNotMatch(dotted.stderr.toString(), /warning/);
  });

  it("refuses a host name that is not one, with exit 100 and a reason", async () => {
    const home = join(tempDir(), "qm");
    const r = await runQm(["init", "--me", "bad/name\nx"], { env: { QMHOME: home } });
    assert.equal(r.code, 100);
    assert.match(r.stderr.toString(), /Invalid host name/);
    assert.equal(r.stderr.toString().trim().split("\n").length, 1);
  });

  it("as root, gives queue/ to the queue user of the password file ($QM_PASSWD), and the alias home to the alias user", { skip: process.getuid?.() !== 0 && "needs root to give files away" }, async () => {
    const top = tempDir();
    const home = join(top, "qm");
    writeFileSync(join(top, "passwd"), "root:x:0:0::/root:/bin/sh\nqmailq:x:64011:64010::/var/qm:/usr/sbin/nologin\nalias:x:64012:64010::/var/qm/alias:/usr/sbin/nologin\n");
    const r = await runQm(["init", "--me", "a.test"], { env: { QMHOME: home, QM_PASSWD: join(top, "passwd") } });
    assert.equal(r.code, 0, r.stderr.toString());
    for (const rel of ["queue", "queue/todo", "queue/mess/7", "queue/lock/trigger", "queue/maildrop"]) {
      const st = lstatSync(join(home, rel));
      assert.deepEqual([st.uid, st.gid], [64011, 64010], rel);
    }
    assert.equal(lstatSync(join(home, "alias/Maildir/new")).uid, 64012);
  });

  it("as root, gives queue/lock/tcpto (not queue/lock) to the remote user, and qm rspawn running as that user keeps its table there", { skip: process.getuid?.() !== 0 && "needs root to give files away" }, async () => {
    const top = tempDir();
    chmodSync(top, 0o755); // qm rspawn runs as the remote user below
    const home = join(top, "qm");
    writeFileSync(join(top, "passwd"), "root:x:0:0::/root:/bin/sh\nqmailq:x:64011:64010::/var/qm:/usr/sbin/nologin\nqmailr:x:64013:64010::/var/qm:/usr/sbin/nologin\n");
    const r = await runQm(["init", "--me", "a.test"], { env: { QMHOME: home, QM_PASSWD: join(top, "passwd") } });
    assert.equal(r.code, 0, r.stderr.toString());
    const lock = lstatSync(join(home, "queue/lock"));
    assert.equal(lock.uid, 64011);
    assert.equal(lock.mode & 0o002, 0, "queue/lock is not writable by the remote user");
    const tcpto = lstatSync(join(home, "queue/lock/tcpto"));
    assert.deepEqual([tcpto.uid, tcpto.mode & 0o7777], [64013, 0o644]);
    const bin = await fastQm();
    const run = spawnSync(bin, ["rspawn"], { env: { ...process.env, QMHOME: home }, input: "", uid: 64013, gid: 64010, timeout: 30_000 });
    assert.equal(run.status, 0, String(run.stderr));
    assert.equal(lstatSync(join(home, "queue/lock/tcpto")).size, TABLE_SIZE, "qm rspawn zeroed its table in place at start");
    assert.equal(lstatSync(join(home, "queue/lock/tcpto")).uid, 64013);
  });

  it("keeps queue/ for root under the tests' own password file, whatever users the host has", { skip: process.getuid?.() !== 0 && "needs root" }, async () => {
    assert.equal(process.env.QM_PASSWD, PASSWD, "test/support/qm.ts names the fixture for every process a test starts");
    assert.doesNotMatch(readFileSync(PASSWD, "latin1"), /^(qmaild|qmailq|qmailr|alias):/m, "none of install.sh's users");
    const home = join(tempDir(), "qm");
    const r = await runQm(["init", "--me", "a.test"], { env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(lstatSync(join(home, "queue/mess/7")).uid, 0);
    assert.equal(lstatSync(join(home, "alias")).uid, 65534, "no alias user there: nobody");
  });
});
