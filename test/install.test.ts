// install.sh --uninstall: removes what install.sh put in place and nothing
// else, gives the system's sendmail back, and keeps the mail unless --purge.
// (The install half runs npm ci and a build; CI's install job covers it.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempDir } from "./support/qm.ts";

/** What install.sh leaves in PREFIX, the system sendmail links (one with a backup), and a home with mail. */
function installed(base: string) {
  const prefix = join(base, "usr/local");
  for (const d of ["bin", "sbin", "share/man/man8", "share/man/man5"]) mkdirSync(join(prefix, d), { recursive: true });
  writeFileSync(join(prefix, "bin/qm"), "binary", { mode: 0o755 });
  symlinkSync("../bin/qm", join(prefix, "sbin/sendmail"));
  symlinkSync("qm", join(prefix, "bin/mailq"));
  symlinkSync("qm", join(prefix, "bin/newaliases"));
  writeFileSync(join(prefix, "bin/other"), "not ours");
  writeFileSync(join(prefix, "share/man/man8/qm-send.8"), "page");
  writeFileSync(join(prefix, "share/man/man5/qm-log.5"), "page");
  writeFileSync(join(prefix, "share/man/man8/postfix.8"), "not ours");
  mkdirSync(join(base, "usr/sbin"), { recursive: true });
  mkdirSync(join(base, "usr/lib"), { recursive: true });
  const sbin = join(base, "usr/sbin/sendmail");
  const lib = join(base, "usr/lib/sendmail");
  writeFileSync(`${sbin}.before-qm`, "the old sendmail");
  symlinkSync(join(prefix, "bin/qm"), sbin);
  symlinkSync("../sbin/exim4", lib); // someone else's: stays
  const home = join(base, "var/qm");
  mkdirSync(join(home, "alias/Maildir/new"), { recursive: true });
  writeFileSync(join(home, "alias/Maildir/new/1.mail"), "mail");
  return { prefix, sbin, lib, home, env: { ...process.env, PREFIX: prefix, QMHOME: home, SENDMAIL_LINKS: `${sbin} ${lib}` } };
}

describe("install.sh --uninstall", { timeout: 300_000 }, () => {
  it("removes the binary, its links and man pages, puts the old sendmail back, and keeps the home", () => {
    const t = installed(tempDir());
    const r = spawnSync("sh", [join(ROOT, "install.sh"), "--uninstall"], { env: t.env, encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    for (const gone of ["bin/qm", "sbin/sendmail", "bin/mailq", "bin/newaliases", "share/man/man8/qm-send.8", "share/man/man5/qm-log.5"]) {
      assert.equal(existsSync(join(t.prefix, gone)) || lstatSync(join(t.prefix, gone), { throwIfNoEntry: false }) !== undefined, false, gone);
    }
    assert.equal(readFileSync(join(t.prefix, "bin/other"), "utf8"), "not ours");
    assert.equal(readFileSync(join(t.prefix, "share/man/man8/postfix.8"), "utf8"), "not ours");
    assert.equal(readFileSync(t.sbin, "utf8"), "the old sendmail", "the backup is back");
    assert.equal(existsSync(`${t.sbin}.before-qm`), false);
    assert.equal(readlinkSync(t.lib), "../sbin/exim4", "a sendmail that is not qm's stays");
    assert.equal(readFileSync(join(t.home, "alias/Maildir/new/1.mail"), "utf8"), "mail", "the mail stays");
    assert.match(r.stderr, /the home \S+ \(queue, mail in alias\/\) stays/);
  });

  it("--purge removes the home too", { skip: spawnSync("sh", ["-c", "command -v runuser"], { timeout: 60_000 }).status === 0 && process.getuid?.() === 0 ? false : "needs root and runuser (to run it as nobody: a root --purge would delete this host's qm users)" }, () => {
    const base = tempDir();
    chmodSync(base, 0o755);
    const t = installed(base);
    spawnSync("chown", ["-R", "-h", "65534:65534", base], { timeout: 60_000 });
    chownSync(base, 65534, 65534);
    const r = spawnSync("runuser", ["-u", "nobody", "--", "sh", join(ROOT, "install.sh"), "--uninstall", "--purge"], { env: t.env, encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(t.home), false);
    assert.equal(existsSync(join(t.prefix, "bin/qm")), false);
    assert.equal(readFileSync(join(t.prefix, "bin/other"), "utf8"), "not ours");
  });

  it("refuses unknown options and a --purge alone with 100", () => {
    for (const args of [["--frobnicate"], ["--purge"]]) {
      const r = spawnSync("sh", [join(ROOT, "install.sh"), ...args], { env: { ...process.env, PREFIX: join(tempDir(), "p") }, encoding: "utf8", timeout: 30_000 });
      assert.equal(r.status, 100, args.join(" "));
      assert.match(r.stderr, /^install\.sh: fatal: /);
    }
  });
});
