import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
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
  it("with create, makes a missing maildir (or its missing tmp/ new/ cur/) mode 700, never its parent", async () => {
    const top = tempDir();
    const dir = join(top, "Maildir");
    const r = await deliverMaildir(dir, Buffer.from(""), bytesSource(Buffer.from("x\n")), { create: true });
    assert.equal(r.kind, "ok", JSON.stringify(r));
    for (const d of ["", "tmp", "new", "cur"]) assert.equal(statSync(join(dir, d)).mode & 0o777, 0o700, d);
    assert.equal(readdirSync(join(dir, "new")).length, 1);
    const half = join(top, "Half");
    mkdirSync(join(half, "new"), { recursive: true });
    assert.equal((await deliverMaildir(half, Buffer.from(""), bytesSource(Buffer.from("y\n")), { create: true })).kind, "ok");
    assert.deepEqual(readdirSync(half).sort(), ["cur", "new", "tmp"]);
    const deep = join(top, "no", "such", "Maildir");
    assert.equal((await deliverMaildir(deep, Buffer.from(""), bytesSource(Buffer.from("z\n")), { create: true })).kind, "temp");
    assert.equal(existsSync(join(top, "no")), false);
    assert.equal((await deliverMaildir(join(top, "Off"), Buffer.from(""), bytesSource(Buffer.from("z\n")))).kind, "temp");
    assert.equal(existsSync(join(top, "Off")), false);
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
