import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { deliverMbox } from "../../../core/io/local/mbox.ts";
import { bytesSource, type MessageSource } from "../../../core/io/local/message-source.ts";
import { tempDir } from "../../support/qm.ts";

const HEAD = Buffer.from("From a@b Fri Jan 05 03:04:05 2024\nReturn-Path: <a@b>\nDelivered-To: u@x\n");
const python = spawnSync("python3", ["-c", "import mailbox"], { timeout: 60_000 }).status === 0;

describe("deliverMbox()", { timeout: 120_000 }, () => {
  it("appends From_, header lines, the quoted message and a blank line, byte for byte", async () => {
    const path = join(tempDir(), "mbox");
    writeFileSync(path, "old\n\n");
    const r = await deliverMbox(path, HEAD, bytesSource(Buffer.from("Subject: s\n\nFrom here\n>From there\nend")));
    assert.equal(r.kind, "ok");
    assert.equal(readFileSync(path, "latin1"), `old\n\n${HEAD.toString()}Subject: s\n\n>From here\n>>From there\nend\n\n`);
    assert.ok(!existsSync(`${path}.lock`));
  });
  it("writes what Python's mailbox module reads back", { skip: python ? false : "python3 missing" }, async () => {
    const path = join(tempDir(), "mbox");
    for (const subj of ["one", "two"]) {
      await deliverMbox(path, HEAD, bytesSource(Buffer.from(`Subject: ${subj}\n\nFrom a line\nbody ${subj}\n`)));
    }
    const py = "import mailbox,sys,json\nm=mailbox.mbox(sys.argv[1])\nprint(json.dumps([[x['Subject'],x.get_payload()] for x in m]))";
    const out = spawnSync("python3", ["-c", py, path], { encoding: "utf8", timeout: 60_000 });
    assert.deepEqual(JSON.parse(out.stdout), [["one", ">From a line\nbody one\n"], ["two", ">From a line\nbody two\n"]]);
  });
  it("truncates back to the old contents when the message cannot be read", async () => {
    const path = join(tempDir(), "mbox");
    writeFileSync(path, "keep me\n\n");
    const broken: MessageSource = {
      async *chunks() {
        yield Buffer.from("Subject: half\n\npart one\n");
        throw Object.assign(new Error("EIO: i/o error"), { code: "EIO" });
      },
    };
    const r = await deliverMbox(path, HEAD, broken);
    assert.equal(r.kind, "temp");
    assert.equal(readFileSync(path, "latin1"), "keep me\n\n");
    assert.ok(!existsSync(`${path}.lock`));
  });
  it("waits for a dot-lock and fails temporarily when it stays", async () => {
    const path = join(tempDir(), "mbox");
    writeFileSync(`${path}.lock`, "");
    const r = await deliverMbox(path, HEAD, bytesSource(Buffer.from("x\n")), { lockWaitMs: 300 });
    assert.equal(r.kind, "temp");
    assert.match(r.kind === "temp" ? r.reason : "", /locked/);
    assert.ok(!existsSync(path));
  });
});
