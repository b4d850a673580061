// qm --help, qm COMMAND --help, qm --version: for people, on stdout, exit 0.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { COMMANDS } from "../cli/commands.ts";
import { ROOT, runQm, tempDir } from "./support/qm.ts";

const SUBS = COMMANDS.map((c) => c.name);

describe("the subcommand table (cli/commands.ts)", { timeout: 120_000 }, () => {
  it("names each command once, in alphabetical order, each with a one-line summary", () => {
    assert.ok(SUBS.length >= 20, SUBS.join(" "));
    assert.deepEqual(SUBS, [...new Set(SUBS)].sort());
    for (const c of COMMANDS) assert.match(c.summary, /^\S[^\n]{10,120}$/, c.name);
  });
  it("loads every command: a runnable command that carries no name or summary of its own", async () => {
    for (const c of COMMANDS) {
      const cmd = await c.load();
      assert.equal(typeof cmd.run, "function", c.name);
      assert.equal(cmd.meta, undefined, `${c.name}: its name and summary live in the table`);
    }
  });
});

describe("qm --help", { timeout: 120_000 }, () => {
  it("lists every subcommand with examples, without colour codes in a pipe", async () => {
    const r = await runQm(["--help"]);
    assert.equal(r.code, 0, r.stderr.toString());
    const text = r.stdout.toString();
    for (const c of COMMANDS) assert.ok(text.includes(`\n  ${c.name.padEnd(14)} ${c.summary}\n`), `${c.name} listed with its summary`);
    assert.match(text, /^EXAMPLES$/m);
    assert.doesNotMatch(text, /\x1b\[/);
  });
  it("shows a command's options and examples for qm COMMAND --help", async () => {
    const r = await runQm(["sendmail", "--help"]);
    assert.equal(r.code, 100, "sendmail's argv is sendmail's: --help is an unknown option there");
    const s = await runQm(["help", "sendmail"]);
    assert.equal(s.code, 0);
    assert.match(s.stdout.toString(), /qm sendmail -t -i/);
    const q = await runQm(["send", "--help"]);
    assert.equal(q.code, 0);
    assert.match(q.stdout.toString(), /^The queue manager: deliver, retry and bounce queued mail \(qmail-send\) \(qm send v0\.1\.0\)$/m, "the table's summary");
    assert.match(q.stdout.toString(), /^USAGE qm send /m);
    assert.match(q.stdout.toString(), /--once/);
    assert.match(q.stdout.toString(), /^EXAMPLES$/m);
  });
  it("does not take --help after -- as help", async () => {
    const r = await runQm(["inject", "-n", "--", "--help"], { input: "Subject: x\n\nbody\n" });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.match(r.stdout.toString(), /^Subject: x$/m);
  });
});

describe("qm --version", { timeout: 120_000 }, () => {
  it("prints the version", async () => {
    const r = await runQm(["--version"]);
    assert.equal(r.code, 0);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal(r.stdout.toString(), `qm ${pkg.version}\n`);
  });
  it("answers an unknown command with usage and exit 100, all on stderr and without colour codes", async () => {
    const r = await runQm(["no-such-command"]);
    assert.equal(r.code, 100);
    assert.equal(r.stdout.length, 0);
    const err = r.stderr.toString();
    assert.match(err, /^USAGE {2}qm COMMAND/m);
    assert.match(err, /\nqm: fatal: Unknown command no-such-command\n$/);
    assert.doesNotMatch(err, /\x1b/);
  });
  it("refuses an option a command does not have with usage and exit 100, before doing anything", async () => {
    const home = join(tempDir(), "qm"); // not made: qm init --bogus must not make it
    try {
      for (const argv of [["init", "--bogus"], ["init", "--me", "a.example", "--rename-all"], ["send", "--onse"], ["smtpd", "-x"], ["start", "--max-per-ip=3"]]) {
        const r = await runQm(argv, { env: { QMHOME: home } });
        assert.equal(r.code, 100, argv.join(" "));
        assert.match(r.stderr.toString(), /\nqm: fatal: Unknown option -{1,2}[a-z-]+\n$/, argv.join(" "));
        assert.equal(existsSync(home), false, argv.join(" "));
      }
      // known options, their --no- forms, values that look like words, and words after "--" still pass
      const ok = await runQm(["init", "--me=a.example", "--no-rename"], { env: { QMHOME: home } });
      assert.equal(ok.code, 0, ok.stderr.toString());
    } finally {
      rmSync(dirname(home), { recursive: true, force: true });
    }
  });
  it("takes no object property for a command: constructor, __proto__, toString are unknown commands", async () => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const r = await runQm([name]);
      assert.equal(r.code, 100, name);
      assert.match(r.stderr.toString(), new RegExp(`\nqm: fatal: Unknown command ${name}\n$`), name);
    }
  });
});
