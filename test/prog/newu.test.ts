import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runQm, tempDir } from "../support/qm.ts";

const tinycdb = spawnSync("cdb", ["-h"], { timeout: 60_000 }).error === undefined;

function home(assign: string): string {
  const qm = join(tempDir("qm-newu-"), "qm");
  mkdirSync(join(qm, "users"), { recursive: true });
  writeFileSync(join(qm, "users/assign"), assign);
  return qm;
}

describe("qm newu", { timeout: 300_000 }, () => {
  it("writes users/cdb in the layout tinycdb reads", { skip: tinycdb ? false : "tinycdb (cdb) missing" }, async () => {
    const qm = home("=Joe:joe:1001:100:/home/joe:::\n+list-:lists:1002:100:/home/lists:-:x-:\n.\n");
    const r = await runQm(["newu"], { env: { QMHOME: qm } });
    assert.equal(r.code, 0, r.stderr.toString());
    const cdb = join(qm, "users/cdb");
    const dump = spawnSync("cdb", ["-d", cdb], { encoding: "latin1", timeout: 60_000 });
    assert.equal(dump.status, 0);
    assert.equal(dump.stdout, [
      "+5,24:!joe\0->joe\x001001\x00100\x00/home/joe\x00\x00",
      "+6,31:!list-->lists\x001002\x00100\x00/home/lists\x00-\x00x-",
      "+0,1:->-",
      "", "",
    ].join("\n"));
    assert.equal(spawnSync("cdb", ["-q", cdb, "!list-"], { encoding: "latin1", timeout: 60_000 }).stdout, "lists\x001002\x00100\x00/home/lists\x00-\x00x-");
    assert.equal(statSync(cdb).mode & 0o777, 0o644);
  });
  it("keeps the old users/cdb when users/assign is malformed (exit 111)", async () => {
    const qm = home("=a:a:1:1:/a:::\n.\n");
    assert.equal((await runQm(["newu"], { env: { QMHOME: qm } })).code, 0);
    const before = readFileSync(join(qm, "users/cdb"));
    writeFileSync(join(qm, "users/assign"), "=a:a:1\n.\n");
    const r = await runQm(["newu"], { env: { QMHOME: qm } });
    assert.equal(r.code, 111);
    assert.match(r.stderr.toString(), /bad format/);
    assert.deepEqual(readFileSync(join(qm, "users/cdb")), before);
    assert.ok(!existsSync(join(qm, "users/cdb.tmp")));
  });
});

describe("qm maildirmake", { timeout: 300_000 }, () => {
  it("makes DIR with tmp, new, cur at mode 0700", async () => {
    const dir = join(tempDir(), "M");
    assert.equal((await runQm(["maildirmake", "--", dir])).code, 0);
    for (const d of ["", "tmp", "new", "cur"]) assert.equal(statSync(join(dir, d)).mode & 0o777, 0o700);
    assert.notEqual((await runQm(["maildirmake", "--", dir])).code, 0, "an existing directory is an error");
  });
});
