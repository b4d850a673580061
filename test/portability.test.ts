// The end-to-end smoke on every runtime qm supports: Node (through tsx), Bun
// and Deno (both from npm) running the source, and the standalone binary
// (bun build --compile; $QM_BIN when set). Each run: a message injected to a
// local and a remote recipient, one SMTP session through `qm smtpd`, then a
// queue run that delivers to a Maildir and, over SMTP, to a sink on loopback.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { asText, fastQm, ROOT, runProcess, tempDir } from "./support/qm.ts";

interface Cmd {
  readonly cmd: string;
  readonly args: readonly string[];
}
const BUN = join(ROOT, "node_modules/.bin/bun");
const DENO = join(ROOT, "node_modules/.bin/deno");
const QM_TS = join(ROOT, "cli/qm.ts");

const RUNTIMES: { name: string; skip: string | false; cmd: () => Promise<Cmd> }[] = [
  { name: "Node", skip: false, cmd: async () => ({ cmd: process.execPath, args: ["--import", "tsx", QM_TS] }) },
  { name: "Bun", skip: existsSync(BUN) ? false : "bun is not installed (npm devDependency)", cmd: async () => ({ cmd: BUN, args: [QM_TS] }) },
  { name: "Deno", skip: existsSync(DENO) ? false : "deno is not installed (npm devDependency)", cmd: async () => ({ cmd: DENO, args: ["run", "-A", QM_TS] }) },
  { name: "the standalone binary", skip: false, cmd: async () => ({ cmd: await fastQm(), args: [] }) },
];
const NOT_ROOT = process.getuid?.() !== 0 ? "needs root: local delivery runs as the recipient's uid" : false;

interface Out {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}
function run(c: Cmd, args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Out> {
  // 120 s: a queue run on Node from source starts lspawn, rspawn and workers through tsx, which took over 45 s with the machine's load at 30
  return runProcess(c.cmd, [...c.args, ...args], { ...opts, timeoutMs: 120_000 }).then(asText);
}

/** A minimal SMTP peer on loopback that accepts everything and keeps what it got. */
function smtpSink(): Promise<{ server: Server; port: number; got: { rcpt: string[]; data: string }[] }> {
  const got: { rcpt: string[]; data: string }[] = [];
  const server = createServer((sock) => {
    let buf = "";
    let rcpt: string[] = [];
    let inData = false;
    sock.setTimeout(20_000, () => sock.destroy());
    sock.on("error", () => {});
    sock.write("220 sink.test ESMTP\r\n");
    sock.on("data", (b) => {
      buf += b.toString("latin1");
      for (let guard = 0; guard < 10_000; guard++) {
        if (inData) {
          const end = buf.indexOf("\r\n.\r\n");
          if (end < 0) return;
          got.push({ rcpt, data: buf.slice(0, end + 2) });
          buf = buf.slice(end + 5);
          inData = false;
          rcpt = [];
          sock.write("250 ok\r\n");
          continue;
        }
        const nl = buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "RCPT") rcpt.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
        if (verb === "DATA") {
          inData = true;
          sock.write("354 go\r\n");
        } else if (verb === "QUIT") sock.end("221 bye\r\n");
        else if (verb === "EHLO") sock.write("250-sink.test\r\n250 8BITMIME\r\n");
        else sock.write("250 ok\r\n");
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port, got })));
}

for (const rt of RUNTIMES) {
  describe(`end-to-end smoke on ${rt.name}`, { skip: rt.skip || NOT_ROOT, timeout: 600_000 }, () => {
    let sink: Awaited<ReturnType<typeof smtpSink>>;
    before(async () => {
      sink = await smtpSink();
    });
    after(() => sink?.server.close());

    it("delivers injected and SMTP mail to a Maildir and a remote peer", async () => {
      const qm = await rt.cmd();
      const fast = await fastQm();
      const top = tempDir("qm-port-");
      chmodSync(top, 0o755);
      const home = join(top, "qm");
      const env = { QMHOME: home };
      const init = await run(qm, ["init", "--me", "example.test"], { env });
      assert.equal(init.code, 0, init.stderr);
      const user = join(top, "joe");
      mkdirSync(user);
      assert.equal(spawnSync(fast, ["maildirmake", join(user, "Maildir")], { timeout: 60_000 }).status, 0);
      spawnSync("chown", ["-R", "65534:65534", user], { timeout: 60_000 });
      writeFileSync(join(home, "users", "assign"), `=joe:nobody:65534:65534:${user}:::\n.\n`);
      assert.equal(spawnSync(fast, ["newu"], { env: { ...process.env, ...env }, timeout: 60_000 }).status, 0);
      writeFileSync(join(home, "control", "smtproutes"), `example.net:127.0.0.1:${sink.port}\n`);
      const dkim = await run(qm, ["dkim", "keygen", "example.test", "port", "--type", "ed25519"], { env }); // mail from example.test leaves signed
      assert.equal(dkim.code, 0, dkim.stderr);
      writeFileSync(join(home, "control", "dkimsign"), "example.test:port:dkim/example.test/port.key\n");

      const inj = await run(qm, ["inject", "joe@example.test", "far@example.net"], { input: `Subject: injected on ${rt.name}\n\nbody\n`, env });
      assert.equal(inj.code, 0, inj.stderr);

      const script = ["EHLO client.test", "MAIL FROM:<a@client.test>", "RCPT TO:<joe@example.test>", "DATA", `Subject: smtp on ${rt.name}`, "", "hello", ".", "QUIT", ""].join("\r\n");
      const smtpEnv = { ...env, TCPREMOTEIP: "127.0.0.1", TCPLOCALIP: "127.0.0.1", TCPREMOTEHOST: "localhost", TCPLOCALHOST: "localhost" };
      const smtpd = await run(qm, ["smtpd"], { input: script, env: smtpEnv });
      const codes = smtpd.stdout.split("\r\n").filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 3));
      assert.deepEqual(codes, ["220", "250", "250", "250", "354", "250", "221"], smtpd.stdout + smtpd.stderr);

      const send = await run(qm, ["send", "--once"], { env });
      assert.equal(send.code, 0, send.stdout + send.stderr);
      const fresh = readdirSync(join(user, "Maildir", "new")).map((f) => readFileSync(join(user, "Maildir", "new", f), "latin1"));
      assert.equal(fresh.length, 2, send.stdout);
      assert.ok(fresh.some((m) => m.includes(`Subject: injected on ${rt.name}\n`)));
      assert.ok(fresh.some((m) => m.includes(`Subject: smtp on ${rt.name}\n`)));
      assert.equal(sink.got.length, 1, send.stdout);
      assert.deepEqual(sink.got[0]!.rcpt, ["far@example.net"]);
      assert.match(sink.got[0]!.data, new RegExp(`Subject: injected on ${rt.name}\r\n`));
      assert.match(sink.got[0]!.data, /^DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed\/relaxed; d=example\.test;/);
      assert.match(send.stdout, /delivery \d+: success: /);
    });
  });
}
