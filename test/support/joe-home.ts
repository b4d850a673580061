import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./qm.ts";

/**
 * A home for a running system (`qm start`) with one local user, joe (uid
 * 65534, nobody), whose Maildir takes local mail: made with the fast binary
 * `fast` (qm init, qm maildirmake, users/assign, qm newu). Both directories
 * are open to nobody, as the listener and the deliveries run as that user.
 */
export function joeHome(fast: string, me = "example.test"): { home: string; maildir: string } {
  const home = join(tempDir(), "qm");
  chmodSync(join(home, ".."), 0o755); // smtpd runs as nobody and must reach control/
  assert.equal(spawnSync(fast, ["init", "--me", me], { env: { ...process.env, QMHOME: home }, timeout: 60_000 }).status, 0);
  const user = join(tempDir("qm-user-"), "joe");
  mkdirSync(user, { recursive: true });
  chmodSync(join(user, ".."), 0o755);
  const maildir = join(user, "Maildir");
  assert.equal(spawnSync(fast, ["maildirmake", maildir], { timeout: 60_000 }).status, 0);
  spawnSync("chown", ["-R", "65534:65534", user], { timeout: 60_000 });
  writeFileSync(join(home, "users", "assign"), `=joe:nobody:65534:65534:${user}:::\n.\n`);
  assert.equal(spawnSync(fast, ["newu"], { timeout: 60_000, env: { ...process.env, QMHOME: home } }).status, 0);
  return { home, maildir };
}
