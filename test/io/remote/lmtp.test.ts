import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { deliverLmtp } from "../../../core/io/remote/lmtp.ts";
import { tempDir } from "../../support/qm.ts";

// deliverLmtp() against scripted LMTP servers on a unix socket: the honest
// ones get each recipient's own reply; every hostile one gives Z, never K.

interface Script {
  greeting?: string;
  /** The reply to a command line (undefined: the default, 250 ok); null: say nothing. */
  answer?: (line: string) => string | null | undefined;
  /** Sent after the final dot (default one 250 per accepted RCPT); null: close at once. */
  afterData?: (accepted: number) => string | null;
}

async function serve(script: Script): Promise<{ path: string; seen: string[]; body: string[]; close: () => Promise<void> }> {
  const path = join(tempDir("qm-lmtp-"), "lmtp");
  const seen: string[] = [];
  const body: string[] = [];
  const socks = new Set<Socket>();
  const server = createServer((s) => {
    socks.add(s);
    s.on("error", () => {});
    s.on("close", () => socks.delete(s));
    s.write(script.greeting ?? "220 lmtp.test LMTP ready\r\n");
    let buf = "";
    let inData = false;
    let accepted = 0;
    s.on("data", (b: Buffer) => {
      buf += b.toString("latin1");
      for (let nl = buf.indexOf("\r\n"); nl >= 0; nl = buf.indexOf("\r\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (inData) {
          if (line !== ".") { body.push(line); continue; }
          inData = false;
          const after = script.afterData ? script.afterData(accepted) : "250 2.0.0 saved\r\n".repeat(accepted);
          if (after === null) s.destroy();
          else s.write(after);
          continue;
        }
        seen.push(line);
        const said = script.answer?.(line);
        const out = said === undefined ? (line === "DATA" ? "354 go\r\n" : line === "QUIT" ? "221 bye\r\n" : "250 ok\r\n") : said;
        if (line.startsWith("RCPT") && out?.startsWith("2")) accepted++;
        if (line === "DATA" && out?.startsWith("354")) inData = true;
        if (out !== null) s.write(out);
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path, seen, body,
    close: () => new Promise((r) => { for (const s of socks) s.destroy(); server.close(() => r()); }),
  };
}

async function deliver(script: Script, rcpts = ["ann@v.test", "bob@v.test"], message = "Subject: t\n\n.dot\nend\n") {
  const srv = await serve(script);
  try {
    const out = await deliverLmtp({ kind: "unix", path: srv.path }, {
      lhlo: "me.test", sender: "s@x.test", recipients: rcpts,
      head: Buffer.from("Delivered-To: ann@v.test\n"),
      message: async function* () { yield new Uint8Array(Buffer.from(message, "latin1")); },
    }, { connectMs: 2000, ioMs: 2000 });
    return { out, letters: out.map((o) => o.letter).join(""), ...srv };
  } finally {
    await srv.close();
  }
}

describe("deliverLmtp()", { timeout: 120_000 }, () => {
  it("speaks LHLO, MAIL, RCPT, DATA, dot-stuffs with CRLF and gives each recipient its own reply", async () => {
    const r = await deliver({
      answer: (l) => (l.includes("<nope@") ? "550 5.1.1 no such user\r\n" : undefined),
      afterData: () => "250 2.0.0 <ann> saved\r\n552 5.2.2 <carol> Quota exceeded\r\n451 4.3.0 <dan> try later\r\n",
    }, ["ann@v.test", "nope@v.test", "carol@v.test", "dan@v.test"]);
    assert.equal(r.letters, "KDDZ");
    assert.deepEqual(r.seen, ["LHLO me.test", "MAIL FROM:<s@x.test>", "RCPT TO:<ann@v.test>", "RCPT TO:<nope@v.test>", "RCPT TO:<carol@v.test>", "RCPT TO:<dan@v.test>", "DATA", "QUIT"]);
    assert.deepEqual(r.body, ["Delivered-To: ann@v.test", "Subject: t", "", "..dot", "end"]);
    assert.match(r.out[0]!.text, /^LMTP server unix:.* accepted message\.\nRemote host said: 250 2\.0\.0 <ann> saved\n$/);
    assert.match(r.out[2]!.text, /552 5\.2\.2 <carol> Quota exceeded/);
  });
  it("ends a partial last line before the dot", async () => {
    const r = await deliver({}, ["ann@v.test"], "Subject: t\n\nno newline");
    assert.equal(r.letters, "K");
    assert.deepEqual(r.body.slice(-1), ["no newline"]);
  });
  it("sends no DATA when no recipient was accepted", async () => {
    const r = await deliver({ answer: (l) => (l.startsWith("RCPT") ? "550 5.1.1 unknown\r\n" : undefined) });
    assert.equal(r.letters, "DD");
    assert.ok(!r.seen.includes("DATA"));
  });
  it("maps MAIL's and DATA's refusals onto every open recipient", async () => {
    assert.equal((await deliver({ answer: (l) => (l.startsWith("MAIL") ? "553 5.1.8 bad sender\r\n" : undefined) })).letters, "DD");
    assert.equal((await deliver({ answer: (l) => (l.startsWith("MAIL") ? "451 4.3.0 later\r\n" : undefined) })).letters, "ZZ");
    assert.equal((await deliver({ answer: (l) => (l === "DATA" ? "554 5.6.0 no\r\n" : undefined) })).letters, "DD");
    assert.equal((await deliver({ answer: (l) => (l === "DATA" ? "250 ok\r\n" : undefined) })).letters, "ZZ");
  });
  it("gives Z, never K, to hostile servers", async () => {
    const cases: [string, Script][] = [
      ["garbage greeting", { greeting: "hello there\r\n" }],
      ["5xx greeting", { greeting: "554 go away\r\n" }],
      ["garbage to LHLO", { answer: (l) => (l.startsWith("LHLO") ? "ok fine\r\n" : undefined) }],
      ["LHLO refused (an SMTP server)", { answer: (l) => (l.startsWith("LHLO") ? "500 5.5.1 what\r\n" : undefined) }],
      ["a line too long", { answer: (l) => (l.startsWith("MAIL") ? `250 ${"x".repeat(10_000)}\r\n` : undefined) }],
      ["close at RCPT", { answer: (l) => (l.startsWith("RCPT TO:<bob") ? null : undefined), afterData: () => null }],
      ["close after DATA", { afterData: () => null }],
      ["one reply for two recipients, then close", { afterData: () => "250 2.0.0 saved\r\n" }],
      ["garbage reply after DATA", { afterData: () => "250 2.0.0 saved\r\nwhat?\r\n" }],
      ["a reply too many", { afterData: () => "250 ok\r\n250 ok\r\n250 ok\r\n" }],
      ["a reply too many, late (the QUIT reply is not 221)", { afterData: () => "250 ok\r\n250 ok\r\n", answer: (l) => (l === "QUIT" ? "250 ok\r\n" : undefined) }],
      ["multiline reply cut short", { afterData: () => "250-2.0.0 saved\r\n" }],
    ];
    for (const [name, script] of cases) {
      const r = await deliver(script);
      assert.ok(!r.letters.includes("K"), `${name}: ${r.letters}`);
      assert.match(r.letters, /^Z+$/, `${name}: ${JSON.stringify(r.out)}`);
    }
  });
  it("keeps a RCPT refusal permanent when the connection dies later", async () => {
    const r = await deliver({ answer: (l) => (l.startsWith("RCPT TO:<ann") ? "550 5.1.1 unknown\r\n" : undefined), afterData: () => null });
    assert.equal(r.letters, "DZ");
  });
  it("speaks to 127.0.0.1:port as well", async () => {
    const got: string[] = [];
    const server = createServer((sock) => {
      sock.write("220 ready\r\n");
      sock.on("data", (b: Buffer) => {
        for (const l of b.toString("latin1").split("\r\n").filter((x) => x !== "")) {
          got.push(l);
          sock.write(l === "DATA" ? "354 go\r\n" : l === "." ? "250 2.0.0 saved\r\n" : l === "QUIT" ? "221 bye\r\n" : l.startsWith("Subject") ? "" : "250 ok\r\n");
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as { port: number }).port;
      const out = await deliverLmtp({ kind: "tcp", host: "127.0.0.1", port }, {
        lhlo: "me.test", sender: "", recipients: ["a@v.test"], message: async function* () { yield new Uint8Array(Buffer.from("Subject: t\n")); },
      }, { connectMs: 2000, ioMs: 2000 });
      assert.equal(out[0]!.letter, "K", JSON.stringify(out));
      assert.deepEqual(got.slice(0, 3), ["LHLO me.test", "MAIL FROM:<>", "RCPT TO:<a@v.test>"]);
    } finally {
      server.close();
    }
  });
  it("is Z when nothing listens", async () => {
    const out = await deliverLmtp({ kind: "unix", path: join(tempDir("qm-lmtp-"), "none") }, {
      lhlo: "me.test", sender: "", recipients: ["a@v.test"], message: async function* () {},
    }, { connectMs: 1000, ioMs: 1000 });
    assert.equal(out[0]!.letter, "Z");
    assert.match(out[0]!.text, /^Unable to connect to LMTP server unix:.*: ENOENT\. \(#4\.4\.1\)\n$/);
  });
  it("refuses addresses with CR or LF before any command", async () => {
    const r = await deliver({}, ["ann@v.test", "x\r\nRSET@v.test"]);
    assert.equal(r.letters, "KD");
    assert.ok(!r.seen.some((l) => l.includes("RSET")));
  });
});
