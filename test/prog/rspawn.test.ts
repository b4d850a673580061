import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { makeHome, runQm, tempDir } from "../support/qm.ts";
import { startPeer } from "../support/smtp-peer.ts";
import { TABLE_SIZE } from "../../core/lib/remote/tcpto.ts";
import { rspawnHome, spawnInput, spawnReports } from "../support/spawn.ts";

// qm rspawn speaks send's spawn protocol: `slot\0path\0sender\0rcpt\0` in,
// `slot\0<K|Z|D>text\0` out, deliveries concurrent, exit 0 at EOF.

function home(port: number): { h: string; mess: string } {
  const { h, messes } = rspawnHome(port, ["Subject: via rspawn\n\nbody\n"]);
  return { h, mess: messes[0]! };
}

describe("qm rspawn", { timeout: 300_000 }, () => {
  it("reports K, Z and D per slot, as qmail-rspawn builds them", async () => {
    const peer = await startPeer({
      answer: (l) => (l.includes("<bad@") ? "550 no such user" : l.includes("<grey@") ? "450 greylisted" : undefined),
    });
    try {
      const { h, mess } = home(peer.port);
      const cmds = [
        ["0", mess, "s@client.test", "ok@x.test"],
        ["1", mess, "s@client.test", "bad@y.test"], // other domains: transactions of their own (same domain: one, see rspawn-batch)
        ["2", mess, "s@client.test", "grey@z.test"],
        ["3", mess, "s@client.test", "nohost"],
        ["4", "/etc/passwd", "s@client.test", "ok@x.test"],
        ["x", mess, "s@client.test", "ok@x.test"],
        ...Array.from({ length: 10 }, (_, i) => [String(10 + i), mess, "", `n${i}@x.test`]),
      ];
      const r = await runQm(["rspawn"], { input: spawnInput(cmds), env: { QMHOME: h } });
      assert.equal(r.code, 0, r.stderr.toString());
      const got = spawnReports(r.stdout);
      assert.equal(got.get("0"), "K127.0.0.1 accepted message.\nRemote host said: 250 ok queued\ntls=none\n");
      assert.equal(got.get("1"), "D127.0.0.1 does not like recipient.\nRemote host said: 550 no such user\nGiving up on 127.0.0.1.\nRemote host said: 550 no such user\ntls=none\n");
      assert.equal(got.get("2"), "Z127.0.0.1 does not like recipient.\nRemote host said: 450 greylisted\nGiving up on 127.0.0.1.\nRemote host said: 450 greylisted\ntls=none\n");
      assert.equal(got.get("3"), "DSorry, address must include host name. (#5.1.3)\n");
      assert.equal(got.get("4"), "ZMessage path is not in the queue. (#4.3.0)\n");
      assert.equal(got.get("x"), "ZBad slot number. (#4.3.0)\n");
      for (let i = 10; i < 20; i++) assert.match(got.get(String(i)) ?? "", /^K/);
      assert.equal(got.size, 16);
      assert.equal(peer.sessions.filter((s) => s.bodies.length === 1).length, 2); // slot 0, and slots 10-19 in one transaction
      assert.equal(peer.sessions.find((s) => s.commands.includes("RCPT TO:<n0@x.test>"))?.commands[1], "MAIL FROM:<> BODY=8BITMIME SIZE=26");
      assert.equal(statSync(join(h, "queue", "lock", "tcpto")).size, TABLE_SIZE);
    } finally {
      await peer.close();
    }
  });
  it("defers a recipient whose virtualdomains LMTP route is bad or down, and never falls back to SMTP", async () => {
    const peer = await startPeer({});
    try {
      const { h, mess } = home(peer.port);
      writeFileSync(join(h, "control", "virtualdomains"), `bad.test:lmtp:somehost:24\ndown.test:lmtp:unix:${join(h, "no-such-socket")}\nann@mix.test:lmtp:unix:${join(h, "no-such-socket")}\n`);
      const r = await runQm(["rspawn"], {
        input: spawnInput([
          ["0", mess, "s@client.test", "a@bad.test"], ["1", mess, "s@client.test", "b@down.test"],
          ["2", mess, "s@client.test", "bob@mix.test"], ["3", mess, "s@client.test", "ann@mix.test"], ["4", mess, "s@client.test", "cy@mix.test"],
        ]),
        env: { QMHOME: h },
      });
      const got = spawnReports(r.stdout);
      assert.equal(got.get("0"), "Zcontrol/virtualdomains has a bad LMTP route: lmtp:somehost:24. (#4.3.5)\n");
      assert.match(got.get("1") ?? "", /^ZUnable to connect to LMTP server unix:.*no-such-socket: ENOENT\. \(#4\.4\.1\)\n$/);
      // one domain, two routes: ann@ by its LMTP route, bob@ and cy@ by SMTP in one transaction
      assert.match(got.get("3") ?? "", /^ZUnable to connect to LMTP server/);
      assert.match(got.get("2") ?? "", /^K127\.0\.0\.1 accepted message/);
      assert.match(got.get("4") ?? "", /^K127\.0\.0\.1 accepted message/);
      assert.equal(peer.sessions.length, 1);
      assert.ok(!peer.sessions[0]!.commands.some((c) => /ann@|@bad|@down/.test(c)), peer.sessions[0]!.commands.join("\n"));
    } finally {
      await peer.close();
    }
  });
  it("reports Z for every delivery when it cannot connect, and exits 0 on EOF", async () => {
    const { h, mess } = home(1);
    const r = await runQm(["rspawn"], { input: `7\0${mess}\0s@client.test\0a@x.test\0`, env: { QMHOME: h } });
    assert.equal(r.code, 0);
    assert.equal(r.stdout.toString(), "7\0ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n\0");
  });
});

describe("qm send with qm rspawn", { timeout: 300_000 }, () => {
  it("delivers injected remote mail through rspawn to smtp-sink", async (t) => {
    if (!existsSync("/usr/sbin/smtp-sink")) return t.skip("smtp-sink (Debian postfix) not installed");
    const port = await new Promise<number>((res) => {
      const s = createServer().listen(0, "127.0.0.1", () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); });
    });
    const dump = tempDir("qm-sink-");
    chmodSync(dump, 0o777);
    const root = process.getuid?.() === 0;
    const sink = spawn("/usr/sbin/smtp-sink", [...(root ? ["-u", "nobody"] : []), "-d", `${dump}/%M.`, `127.0.0.1:${port}`, "20"], { stdio: "ignore" });
    try {
      const h = await makeHome("client.test");
      writeFileSync(join(h, "control", "smtproutes"), `:127.0.0.1:${port}\n`);
      const inj = await runQm(["inject", "--", "a@far.test", "b@far.test"], { input: "Subject: through send\n\nhi\n", env: { QMHOME: h } });
      assert.equal(inj.code, 0, inj.stderr.toString());
      const send = await runQm(["send", "--once"], { env: { QMHOME: h }, timeoutMs: 40_000 });
      assert.equal(send.code, 0, send.stderr.toString());
      assert.match(send.stdout.toString() + send.stderr.toString(), /delivery \d+: success: 127\.0\.0\.1_accepted_message/);
      assert.equal(readdirSync(dump).length, 1); // both recipients in one transaction
      assert.equal((send.stdout.toString().match(/: success: /g) ?? []).length, 2);
    } finally {
      sink.kill();
    }
  });
});
