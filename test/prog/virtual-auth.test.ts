import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeCert } from "../support/smtp-peer.ts";
import { control, have, isRoot, NOBODY, smtpdHome, startListener, type Running } from "../support/smtpd.ts";

// AUTH against control/virtualusers' password hashes (issue 19 item 5): the
// hashes come from Dovecot's own `doveadm pw` (Debian's dovecot-core), the
// client is swaks over STARTTLS on a real submission listener.
const CERT = makeCert();
const skip = !have("swaks") ? "swaks is not installed" : !have("doveadm") ? "doveadm is not installed (Debian dovecot-core)" : !CERT ? "openssl is missing" : false;

function doveadm(scheme: string, pass: string): string {
  const r = spawnSync("doveadm", ["pw", "-s", scheme, "-p", pass], { timeout: 30_000, env: { ...process.env, HOME: "/tmp" } });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString().trim();
}

describe("qm smtpd: AUTH against control/virtualusers", { timeout: 300_000, skip }, () => {
  let home = "";
  let l: Running;
  let port = 0;
  const swaks = (user: string, pass: string) => {
    const r = spawnSync("swaks", ["--server", "127.0.0.1", "--port", String(port), "--tls", "--auth", "PLAIN", "--auth-user", user, "--auth-password", pass, "--quit-after", "AUTH", "--timeout", "30"], { timeout: 60_000 });
    const out = r.stdout.toString();
    // the reply after the AUTH line swaks sent ("~> AUTH PLAIN ..."; "<~" marks a reply under TLS, "<~*" a failure)
    const lines = out.split("\n");
    const at = lines.findIndex((x) => /^ ?~> AUTH /.test(x));
    const reply = lines.slice(at + 1).find((x) => /^<~\*? *\d{3} /.test(x))?.replace(/^<~\*? */, "") ?? out;
    return { code: r.status, reply };
  };
  /** Waits (10 s at most) for a log line of the listener's. */
  const logged = async (re: RegExp) => {
    for (let i = 0; i < 100 && !re.test(l.log()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(l.log(), re);
  };
  const users = (mode: number) => {
    const file = join(home, "control", "virtualusers");
    writeFileSync(file, [
      "# address:uid:gid:mailbox[:quota[:hash]]",
      `ann@virt.test:${NOBODY}:${NOBODY}:/nonexistent/ann/Maildir/::${doveadm("SHA512-CRYPT", "ann's secret")}`,
      `bob@virt.test:${NOBODY}:${NOBODY}:/nonexistent/bob/Maildir/:1000000S:${doveadm("SHA256-CRYPT", "bob pass").replace(/^\{SHA256-CRYPT\}/, "")}`,
      `carol@virt.test:${NOBODY}:${NOBODY}:/nonexistent/carol/Maildir/`,
      `dave@virt.test:${NOBODY}:${NOBODY}:/nonexistent/dave/Maildir/::${doveadm("BLF-CRYPT", "dave")}`,
      "",
    ].join("\n"));
    if (isRoot) chownSync(file, 0, NOBODY);
    chmodSync(file, mode);
  };

  before(async () => {
    home = await smtpdHome();
    control(home, "servercert.pem", CERT!.key + CERT!.cert);
    chmodSync(join(home, "control", "servercert.pem"), 0o600);
    if (isRoot) chownSync(join(home, "control", "servercert.pem"), NOBODY, NOBODY);
    control(home, "authdelay", "0\n");
    users(0o640);
    l = await startListener(home, ["--listen", "127.0.0.1:0", "--submission"]);
    port = l.ports[0]!;
  });
  after(async () => {
    await l?.stop();
    if (home) rmSync(join(home, ".."), { recursive: true, force: true });
  });

  it("Dovecot's SHA512-CRYPT and SHA256-CRYPT hashes log in (user = the whole address); the log says via virtualusers", { timeout: 120_000 }, async () => {
    const ann = swaks("ann@virt.test", "ann's secret");
    assert.equal(ann.code, 0, ann.reply);
    assert.match(ann.reply, /^235 /);
    assert.match(swaks("Bob@Virt.Test", "bob pass").reply, /^235 /, "the address in any case");
    await logged(/auth ok 127\.0\.0\.1 user ann@virt\.test mech PLAIN via virtualusers/);
  });

  it("a wrong password, a user without a hash and an unknown user get 535; another hash scheme gets 454 with the reason logged", { timeout: 120_000 }, async () => {
    for (const [user, pass] of [["ann@virt.test", "wrong"], ["carol@virt.test", ""], ["carol@virt.test", "x"], ["nobody@virt.test", "x"], ["ann", "ann's secret"]]) {
      assert.match(swaks(user!, pass!).reply, /^535 /, `${user} / ${pass}`);
    }
    assert.match(swaks("dave@virt.test", "dave").reply, /^454 /);
    await logged(/warning: .* auth virtualusers: control\/virtualusers: the hash for dave@virt\.test is not SHA512-CRYPT or SHA256-CRYPT/);
  });

  it("a file the listener cannot read (mode 600, root's): AUTH is 454, never a pass", { timeout: 120_000, skip: isRoot ? false : "needs root: the listener runs as nobody" }, async () => {
    users(0o600);
    chownSync(join(home, "control", "virtualusers"), 0, 0);
    await new Promise((r) => setTimeout(r, 1100)); // the controls are read again at most once a second
    assert.match(swaks("ann@virt.test", "ann's secret").reply, /^454 /);
    await logged(/auth virtualusers: Unable to read control\/virtualusers/);
    users(0o640);
  });
});
