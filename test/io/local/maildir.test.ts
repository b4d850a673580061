import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { deliverMaildir, makeMaildir, uniqueName } from "../../../core/io/local/maildir.ts";
import { bytesSource } from "../../../core/io/local/message-source.ts";
import { maildirName } from "../../../core/lib/local/maildir-name.ts";
import { tempDir } from "../../support/qm.ts";

const python = spawnSync("python3", ["-c", "import mailbox"], { timeout: 60_000 }).status === 0;

describe("deliverMaildir()", { timeout: 120_000 }, () => {
  it("writes head + message verbatim into new/ and leaves tmp/ empty", async () => {
    const dir = join(tempDir(), "Maildir");
    assert.equal(makeMaildir(dir).kind, "ok");
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const body = Buffer.from("Subject: s\n\nFrom x\nno final newline\u00ff");
    const r = await deliverMaildir(dir, Buffer.from("Return-Path: <a@b>\n"), bytesSource(body));
    assert.equal(r.kind, "ok");
    const names = readdirSync(join(dir, "new"));
    assert.deepEqual(names, [r.kind === "ok" ? r.value : ""]);
    assert.deepEqual(readFileSync(join(dir, "new", names[0]!)), Buffer.concat([Buffer.from("Return-Path: <a@b>\n"), body]));
    assert.deepEqual(readdirSync(join(dir, "tmp")), []);
  });
  it("is read back by Python's mailbox module", { skip: python ? false : "python3 missing" }, async () => {
    const dir = join(tempDir(), "Maildir");
    makeMaildir(dir);
    for (const s of ["a", "b", "c"]) await deliverMaildir(dir, Buffer.from(""), bytesSource(Buffer.from(`Subject: ${s}\n\nbody\n`)));
    const out = spawnSync("python3", ["-c", "import mailbox,sys\nprint(' '.join(sorted(m['Subject'] for m in mailbox.Maildir(sys.argv[1], create=False))))", dir], { encoding: "utf8", timeout: 60_000 });
    assert.equal(out.stdout.trim(), "a b c");
  });
  it("fails temporarily without a tmp/ directory", async () => {
    const r = await deliverMaildir(tempDir(), Buffer.from(""), bytesSource(Buffer.from("x")));
    assert.equal(r.kind, "temp");
  });
  it("refuses to make an existing maildir", () => {
    assert.notEqual(makeMaildir(tempDir()).kind, "ok");
  });
});

describe("uniqueName()", { timeout: 120_000 }, () => {
  it("never repeats, never holds / or :, never starts with a dot", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(uniqueName());
    assert.equal(seen.size, 1000);
    const n = maildirName({ sec: 1, usec: 2, pid: 3, seq: 4, random: Uint8Array.of(0xab), host: "a/b:c" });
    assert.equal(n, "1.M2P3Q4Rab.a\\057b\\072c");
  });
});
