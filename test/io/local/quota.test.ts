import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deliverMaildir, makeMaildir } from "../../../core/io/local/maildir.ts";
import { bytesSource } from "../../../core/io/local/message-source.ts";
import { readMaildirSize } from "../../../core/io/local/quota.ts";
import { tempDir } from "../../support/qm.ts";

function maildir(quotaFile?: string): string {
  const dir = join(tempDir(), "Maildir");
  makeMaildir(dir);
  if (quotaFile !== undefined) writeFileSync(join(dir, "maildirsize"), quotaFile);
  return dir;
}
const put = (dir: string, text: string, quota: "perm" | "temp" = "perm") => deliverMaildir(dir, Buffer.from(""), bytesSource(Buffer.from(text)), { quota });

describe("Maildir++ quotas in deliverMaildir()", { timeout: 60_000 }, () => {
  it("delivers under the quota and adds one usage line", async () => {
    const dir = maildir("100S,5C\n");
    assert.equal((await put(dir, "x".repeat(60))).kind, "ok");
    assert.equal(readFileSync(join(dir, "maildirsize"), "latin1"), "100S,5C\n60 1\n");
  });
  it("refuses a message that would go over it: 5.2.2, or 4.2.2 under quotawarn; nothing left behind", async () => {
    const dir = maildir("100S\n60 1\n");
    const r = await put(dir, "y".repeat(41));
    assert.equal(r.kind, "perm");
    assert.equal(r.kind === "perm" && r.status, "5.2.2");
    assert.match(r.kind === "perm" ? r.reason : "", /^The mailbox is full: 60 of 100 bytes/);
    const t = await put(dir, "y".repeat(41), "temp");
    assert.equal(t.kind === "temp" && t.status, "4.2.2");
    assert.deepEqual([readdirSync(join(dir, "new")), readdirSync(join(dir, "tmp"))], [[], []]);
    assert.equal((await put(dir, "y".repeat(40))).kind, "ok");
    const c = maildir("0S,1C\n0 1\n");
    assert.equal((await put(c, "z")).kind, "perm");
  });
  it("has no quota without maildirsize or without a quota line", async () => {
    assert.equal((await put(maildir(), "x".repeat(10_000))).kind, "ok");
    const dir = maildir("garbage\n");
    assert.equal((await put(dir, "x".repeat(10_000))).kind, "ok");
    assert.equal(readFileSync(join(dir, "maildirsize"), "latin1"), "garbage\n");
  });
  it("recalculates a long or broken file from the messages (,S= names, else their size), in every folder", async () => {
    const dir = maildir(`1000S\n${"1 1\n".repeat(2000)}`);
    writeFileSync(join(dir, "cur", "1.M1P1.h,S=300:2,S"), "ignored size");
    writeFileSync(join(dir, "new", "2.M2P2.h"), "x".repeat(200));
    makeMaildir(join(dir, ".Sent"));
    writeFileSync(join(dir, ".Sent", "cur", "3.M3P3.h,S=100:2,S"), "");
    const m = readMaildirSize(dir);
    assert.deepEqual(m.kind === "ok" && m.value, { quota: { bytes: 1000, count: 0 }, usedBytes: 600, usedCount: 3, recalc: false });
    assert.equal(readFileSync(join(dir, "maildirsize"), "latin1"), "1000S\n600 3\n");
    assert.deepEqual(readdirSync(join(dir, "tmp")), []);
    const frozen = maildir("1000S\n5 1\nbroken\n");
    const f = readMaildirSize(frozen, { recalc: false });
    assert.equal(f.kind === "ok" && f.value?.usedBytes, 5);
    assert.equal(readFileSync(join(frozen, "maildirsize"), "latin1"), "1000S\n5 1\nbroken\n");
  });
});
