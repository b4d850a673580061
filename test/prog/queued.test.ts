// qm queued under qm start, as on an install.sh host: the queue belongs to a
// queue user (uid 65533, group 65534) and smtpd runs as another user of that
// group (nobody, 65534:65534), so smtpd hands each message to qm queued and
// nothing goes through maildrop/; a user outside the group (uid 4242) still
// does, and a listener whose qm queued is gone falls back to maildrop/.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { joeHome } from "../support/joe-home.ts";
import { fastQm, runProcess } from "../support/qm.ts";
import { Started, waitFor } from "../support/started.ts";
import { Client } from "../support/smtpd.ts";

const ROOT_ONLY = process.getuid?.() !== 0 ? "needs root: the parts run as other users" : false;

async function smtp(port: number, subject: string): Promise<string> {
  const c = await Client.open(port);
  await c.replies(1);
  c.send(`HELO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<joe@example.test>\r\nDATA\r\n`);
  await c.replies(4);
  let text = "";
  c.sock.on("data", (s: string) => (text += s));
  c.send(`Subject: ${subject}\r\n\r\n${subject} body\r\n.\r\nQUIT\r\n`);
  await c.replies(2);
  c.sock.destroy();
  return text;
}

describe("qm queued under qm start", { skip: ROOT_ONLY, timeout: 300_000 }, () => {
  let fast = "";
  let home = "";
  let maildir = "";
  let qm: Started;
  let port = 0;
  const delivered = (subject: string) =>
    waitFor(`delivery of ${subject}`, () => readdirSync(join(maildir, "new")).find((f) => readFileSync(join(maildir, "new", f), "latin1").includes(`Subject: ${subject}\n`)), 60_000);

  before(async () => {
    fast = await fastQm();
    ({ home, maildir } = joeHome(fast));
    spawnSync("chown", ["-R", "65533:65534", join(home, "queue")], { timeout: 60_000 });
    qm = new Started(home, ["--listen", "127.0.0.1:0", "--smtpd-user", "nobody"]);
    port = Number((await qm.wait(/smtpd: listening on 127\.0\.0\.1:(\d+)/))[1]);
    await qm.wait(/^queued: ready on queue\/lock\/queued\/socket as uid 65533$/m);
  });
  after(() => {
    if (qm && qm.child.exitCode === null) qm.child.kill("SIGKILL");
  });

  it("starts qm queued as the queue's owner, and smtpd's 250 carries the queue id: nothing goes through maildrop/", async () => {
    assert.match(qm.text, /^start: queued started, pid \d+$/m);
    const from = qm.text.length;
    const reply = await smtp(port, "through-queued");
    const id = /^250 2\.0\.0 ok \d+ qp \d+ msg (\d+)\r$/m.exec(reply)?.[1];
    assert.ok(id, reply);
    await delivered("through-queued");
    const log = await waitFor("the end msg line", () => (new RegExp(`^end msg ${id}$`, "m").test(qm.text.slice(from)) ? qm.text.slice(from) : null));
    assert.match(log, new RegExp(`^smtpd: \\d+\\.\\d+ accepted 127\\.0\\.0\\.1 msg ${id} from <a@client\\.test> rcpts 1$`, "m"));
    assert.match(log, new RegExp(`^info msg ${id}: bytes \\d+ from <a@client\\.test> qp \\d+ uid 65534$`, "m"));
    assert.doesNotMatch(log, /maildrop\//);
    const mail = readFileSync(join(maildir, "new", (await delivered("through-queued"))!), "latin1");
    assert.match(mail, /^Received: \(qmail \d+ invoked from network\);/m, "the Received line of a listener, as on the direct path");
  });

  it("leaves a user outside the queue's group to maildrop/", async () => {
    const from = qm.text.length;
    const r = await runProcess(fast, ["inject", "joe@example.test"], { input: "Subject: by-user\n\nbody\n", env: { ...process.env, QMHOME: home, USER: "u", HOME: "/tmp" }, timeoutMs: 60_000, spawn: { uid: 4242, gid: 4242 } });
    assert.equal(r.code, 0, r.stderr.toString());
    await delivered("by-user");
    await qm.wait(/^info maildrop\/\S+ uid 4242 queued as \d+$/m, from);
  });

  it("passes SIGHUP to qm queued, which stays", async () => {
    const from = qm.text.length;
    qm.child.kill("SIGHUP");
    await qm.wait(/^start: SIGHUP: passed to send, queued, smtpd$/m, from);
    await smtp(port, "after-hup");
    await delivered("after-hup");
    assert.doesNotMatch(qm.text.slice(from), /queued (?:started|exited|killed)/);
  });

  it("while qm queued is gone, smtpd writes maildrop/; start runs it again", async () => {
    const pid = Number((await qm.wait(/^start: queued started, pid (\d+)$/m))[1]);
    const from = qm.text.length;
    process.kill(pid, "SIGKILL");
    await qm.wait(/^start: queued killed by SIGKILL; starting it again in \d+ s$/m, from);
    // the socket a killed qm queued left: nobody greets on it, so the message goes to maildrop/
    const reply = await smtp(port, "while-down");
    assert.match(reply, /^250 2\.0\.0 ok \d+ qp \d+\r$/m, "no id: it went through maildrop/");
    await delivered("while-down");
    await qm.wait(/^queued: ready on queue\/lock\/queued\/socket/m, from);
    const again = await smtp(port, "after-restart");
    assert.match(again, /^250 2\.0\.0 ok \d+ qp \d+ msg \d+\r$/m);
    await delivered("after-restart");
  });

  it("on SIGTERM qm queued stops and removes its socket", async () => {
    qm.child.kill("SIGTERM");
    assert.deepEqual(await qm.exited(), { code: 0, signal: null });
    assert.match(qm.text, /^queued: stopped$/m);
    assert.match(qm.text, /^start: queued exited with code 0$/m);
    assert.equal(existsSync(join(home, "queue/lock/queued/socket")), false);
  });
});
