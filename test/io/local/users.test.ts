// resolveLocal() keeps users/cdb and the password file parsed between
// deliveries; a change to either must show at the next lookup.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chownSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveLocal } from "../../../core/io/local/users.ts";
import { newu } from "../../../core/prog/newu.ts";
import { tempDir } from "../../support/qm.ts";

const ROOT_ONLY = process.getuid?.() !== 0 ? "needs root: home directories owned by other uids" : false;

function home(): string {
  const h = join(tempDir(), "qm");
  mkdirSync(join(h, "users"), { recursive: true });
  mkdirSync(join(h, "alias"), { recursive: true });
  return h;
}

async function uidOf(h: string, local: string, passwd: string): Promise<number | string> {
  const r = await resolveLocal(h, local, { passwd });
  return r.kind === "ok" ? r.value.uid : `${r.code}: ${r.reason}`;
}

describe("resolveLocal() and its cached files", () => {
  it("sees users/cdb rebuilt by qm newu, and its removal", async () => {
    const h = home();
    const passwd = join(tempDir(), "passwd");
    writeFileSync(passwd, "");
    writeFileSync(join(h, "users", "assign"), "=joe:joe:1001:1001:/home/joe:::\n.\n");
    assert.equal((await newu(h)).kind, "ok");
    assert.equal(await uidOf(h, "joe", passwd), 1001);
    writeFileSync(join(h, "users", "assign"), "=joe:joe:1002:1002:/home/joe:::\n.\n");
    assert.equal((await newu(h)).kind, "ok");
    assert.equal(await uidOf(h, "joe", passwd), 1002);
    rmSync(join(h, "users", "cdb"));
    const gone = await uidOf(h, "joe", passwd);
    assert.notEqual(gone, 1002, "a removed users/cdb is not used from memory");
  });

  it("sees the password file changed in place", { skip: ROOT_ONLY }, async () => {
    const h = home();
    const passwd = join(tempDir(), "passwd");
    const joeHome = tempDir("qm-joe-");
    chownSync(joeHome, 1003, 1003);
    writeFileSync(passwd, `joe:x:1003:1003::${joeHome}:/bin/sh\n`);
    assert.equal(await uidOf(h, "joe", passwd), 1003);
    chownSync(joeHome, 1004, 1004);
    writeFileSync(passwd, `joe:x:1004:1004:Joe:${joeHome}:/bin/sh\n`); // same file, longer line
    assert.equal(await uidOf(h, "joe", passwd), 1004);
    writeFileSync(passwd, "");
    chownSync(join(h, "alias"), 65534, 65534);
    assert.equal(await uidOf(h, "joe", passwd), 65534, "joe is gone: the alias user takes the mail");
  });
});
