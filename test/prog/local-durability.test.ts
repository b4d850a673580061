import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { qmCommand, runProcess, tempDir } from "../support/qm.ts";

// qm local's deliveries are durable before it exits 0: the Maildir link into
// new/ and a newly created mbox's name are fsynced through their directory,
// and a failure of that fsync is a temporary failure (111), seen through
// strace and its fault injection. As root the delivery runs as uid 65534.

const hasStrace = spawnSync("strace", ["-V"], { timeout: 10_000 }).status === 0;
const ROOT_RUN = process.getuid?.() === 0;
const UID = ROOT_RUN ? 65534 : process.getuid!();
const MSG = "From: a@b\nSubject: durable\n\nbody\n";

function userHome(): string {
  const top = tempDir("qm-local-sync-");
  chmodSync(top, 0o755);
  const home = join(top, "home");
  mkdirSync(home, { mode: 0o755 });
  for (const d of ["/Maildir", "/Maildir/tmp", "/Maildir/new", "/Maildir/cur"]) mkdirSync(home + d);
  for (const d of ["", "/Maildir", "/Maildir/tmp", "/Maildir/new", "/Maildir/cur"]) chownSync(home + d, UID, UID);
  return home;
}

async function local(home: string, dd: string, strace: string[]) {
  const { cmd, args } = qmCommand();
  const trace = join(tempDir("qm-local-trace-"), "trace");
  const r = await runProcess("strace", ["-f", "-y", "-qq", "-o", trace, ...strace, cmd, ...args, "local", "--", "bob", home, "bob", "", "", "example.test", "s@x.org", dd], { input: MSG, timeoutMs: 60_000 });
  const lines = readFileSync(trace, "latin1").split("\n");
  rmSync(join(trace, ".."), { recursive: true, force: true });
  return { r, lines };
}

describe("qm local makes a delivery durable before exit 0", { timeout: 300_000, skip: !hasStrace && "strace is not installed (scripts/apt-packages.txt)" }, () => {
  it("Maildir: link into new/, then fsync of new/, then exit 0", async () => {
    const home = userHome();
    const { r, lines } = await local(home, "./Maildir/", ["-e", "trace=fsync,link,linkat,exit_group"]);
    assert.equal(r.code, 0, r.stderr.toString());
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const linked = at(/link(at)?\(.*Maildir\/tmp\/.*Maildir\/new\/.* = 0$/);
    const synced = at(/fsync\(\d+<[^>]*\/Maildir\/new>\) += 0$/);
    const exited = at(/exit_group\(0\)/);
    assert.ok(linked >= 0 && synced > linked && exited > synced, lines.join("\n"));
    assert.equal(readdirSync(join(home, "Maildir/new")).length, 1);
  });

  it("Maildir: a failed fsync of new/ is a temporary failure (111) and leaves no message", async () => {
    const home = userHome();
    const { r } = await local(home, "./Maildir/", ["-e", "trace=fsync", "-e", "inject=fsync:error=EIO:when=2"]);
    assert.equal(r.code, 111, r.stderr.toString());
    assert.match(r.stdout.toString() + r.stderr.toString(), /Unable to fsync .*Maildir\/new: i\/o error/);
    assert.deepEqual(readdirSync(join(home, "Maildir/new")), []);
    assert.deepEqual(readdirSync(join(home, "Maildir/tmp")), []);
  });

  it("mbox created by the delivery: its directory is fsynced before exit 0, and a failure there is 111", async () => {
    const home = userHome();
    const { r, lines } = await local(home, "./mbox", ["-e", "trace=fsync,exit_group"]);
    assert.equal(r.code, 0, r.stderr.toString());
    const file = lines.findIndex((l) => /fsync\(\d+<[^>]*\/home\/mbox>\) += 0$/.test(l));
    const dir = lines.findIndex((l) => /fsync\(\d+<[^>]*\/home>\) += 0$/.test(l));
    const exited = lines.findIndex((l) => /exit_group\(0\)/.test(l));
    assert.ok(file >= 0 && dir > file && exited > dir, lines.join("\n"));
    const again = userHome();
    const failed = await local(again, "./mbox", ["-e", "trace=fsync", "-e", "inject=fsync:error=EIO:when=2"]);
    assert.equal(failed.r.code, 111, failed.r.stderr.toString());
    assert.equal(existsSync(join(again, "mbox")) ? readFileSync(join(again, "mbox"), "latin1") : "", "", "nothing delivered");
  });
});
