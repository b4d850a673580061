import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { qmCommand, runQm } from "../support/qm.ts";
import { startPeer } from "../support/smtp-peer.ts";
import { BATCH_MAX, recordsFor } from "../../core/prog/rspawn.ts";
import type { Record } from "../../core/lib/remote/report.ts";
import { rspawnHome, spawnInput, spawnReports } from "../support/spawn.ts";

// qm rspawn shares one SMTP transaction among commands that arrive together
// for the same message, sender and domain; every slot still gets its own report.

function home(port: number): { h: string; mess: string; other: string } {
  const { h, messes } = rspawnHome(port, ["Subject: batch\n\nbody\n", "Subject: other\n\nbody\n"]);
  return { h, mess: messes[0]!, other: messes[1]! };
}

describe("qm rspawn batching", { timeout: 300_000 }, () => {
  it("sends a message's recipients for one domain in one transaction, with a report per slot", async () => {
    const peer = await startPeer({ answer: (l) => (l.includes("<bad@") ? "550 no such user" : l.includes("<grey@") ? "450 greylisted" : undefined) });
    try {
      const { h, mess, other } = home(peer.port);
      const r = await runQm(["rspawn"], {
        input: spawnInput([
          ["0", mess, "s@client.test", "a@x.test"],
          ["1", mess, "s@client.test", "bad@x.test"],
          ["2", mess, "s@client.test", "grey@X.TEST"],
          ["3", mess, "s@client.test", "b@x.test"],
          ["4", mess, "t@client.test", "a@x.test"], // another sender: its own transaction
          ["5", other, "s@client.test", "a@x.test"], // another message: its own transaction
          ["6", mess, "s@client.test", "c@y.test"], // another domain: its own transaction
        ]),
        env: { QMHOME: h },
      });
      assert.equal(r.code, 0, r.stderr.toString());
      const got = spawnReports(r.stdout);
      assert.equal(got.size, 7);
      for (const s of ["0", "3", "4", "5", "6"]) assert.equal(got.get(s), "K127.0.0.1 accepted message.\nRemote host said: 250 ok queued\ntls=none\n");
      assert.equal(got.get("1"), "D127.0.0.1 does not like recipient.\nRemote host said: 550 no such user\n");
      assert.equal(got.get("2"), "Z127.0.0.1 does not like recipient.\nRemote host said: 450 greylisted\n");
      const withBody = peer.sessions.filter((s) => s.bodies.length === 1);
      assert.equal(withBody.length, 4);
      const shared = withBody.find((s) => s.commands.includes("RCPT TO:<bad@x.test>"));
      assert.deepEqual(shared?.commands.filter((c) => c.startsWith("RCPT")), ["RCPT TO:<a@x.test>", "RCPT TO:<bad@x.test>", "RCPT TO:<grey@X.TEST>", "RCPT TO:<b@x.test>"]);
    } finally {
      await peer.close();
    }
  });
  it(`gives every slot the same message failure, and splits batches at ${BATCH_MAX} recipients`, async () => {
    const peer = await startPeer({ afterData: () => "554 rejected for content" });
    try {
      const { h, mess } = home(peer.port);
      const n = BATCH_MAX + 3;
      const r = await runQm(["rspawn"], { input: spawnInput(Array.from({ length: n }, (_, i) => [String(i), mess, "", `u${i}@x.test`])), env: { QMHOME: h } });
      assert.equal(r.code, 0);
      const got = spawnReports(r.stdout);
      assert.equal(got.size, n);
      for (const text of got.values()) assert.equal(text, "D127.0.0.1 failed after I sent the message.\nRemote host said: 554 rejected for content\ntls=none\n");
      assert.deepEqual(peer.sessions.map((s) => s.commands.filter((c) => c.startsWith("RCPT")).length).sort((a, b) => a - b), [3, BATCH_MAX]);
    } finally {
      await peer.close();
    }
  });
  it("sends no message when every recipient is refused, even to a peer that says 354 to the pipelined DATA", async () => {
    const peer = await startPeer({ answer: (l) => (l.startsWith("RCPT") ? "550 no" : undefined) });
    try {
      const { h, mess } = home(peer.port);
      const r = await runQm(["rspawn"], { input: spawnInput([["0", mess, "s@client.test", "a@x.test"], ["1", mess, "s@client.test", "b@x.test"]]), env: { QMHOME: h } });
      const got = spawnReports(r.stdout);
      assert.match(got.get("0") ?? "", /^D127\.0\.0\.1 does not like recipient\.\nRemote host said: 550 no\n/);
      assert.match(got.get("1") ?? "", /^D127\.0\.0\.1 does not like recipient\./);
      assert.deepEqual(peer.sessions.map((s) => s.bodies.length), [0]);
      assert.deepEqual(peer.sessions[0]!.commands.slice(1, 5), ["MAIL FROM:<s@client.test> BODY=8BITMIME SIZE=21", "RCPT TO:<a@x.test>", "RCPT TO:<b@x.test>", "DATA"]);
    } finally {
      await peer.close();
    }
  });
});

/** qm rspawn fed one command at a time: each waits for the previous report. */
async function oneByOne(h: string, cmds: readonly (readonly string[])[]): Promise<string[]> {
  const q = qmCommand();
  const child = spawn(q.cmd, [...q.args, "rspawn"], { env: { ...process.env, QMHOME: h }, stdio: ["pipe", "pipe", "inherit"] });
  const out: string[] = [];
  let buf = "";
  let wake: (() => void) | null = null;
  child.stdout!.on("data", (b: Buffer) => {
    buf += b.toString("latin1");
    wake?.();
  });
  for (const c of cmds) {
    child.stdin!.write(spawnInput([c]));
    const until = Date.now() + 20_000;
    while (buf.split("\0").length < 3 && Date.now() < until) await new Promise<void>((r) => ((wake = r), setTimeout(r, 200)));
    const f = buf.split("\0");
    out.push(f[1] ?? "");
    buf = f.slice(2).join("\0");
  }
  child.stdin!.end();
  await new Promise((r) => child.on("close", r));
  return out;
}

describe("qm rspawn connection reuse", { timeout: 300_000 }, () => {
  it("sends the next message to the same address on the open connection, without a new greeting", async () => {
    const peer = await startPeer();
    try {
      const { h, mess, other } = home(peer.port);
      const got = await oneByOne(h, [["0", mess, "s@client.test", "a@x.test"], ["1", other, "t@client.test", "b@x.test"], ["2", mess, "s@client.test", "c@y.test"]]);
      assert.deepEqual(got.map((g) => g.slice(0, 1)), ["K", "K", "K"]);
      assert.equal(peer.sessions.length, 1);
      const c = peer.sessions[0]!.commands;
      assert.equal(c.filter((l) => l.startsWith("EHLO")).length, 1);
      assert.deepEqual(c.filter((l) => l.startsWith("MAIL")).map((l) => l.split(" ")[1]), ["FROM:<s@client.test>", "FROM:<t@client.test>", "FROM:<s@client.test>"]);
      assert.equal(peer.sessions[0]!.bodies.length, 3);
      assert.equal(c.at(-1), "QUIT"); // said when rspawn ends
    } finally {
      await peer.close();
    }
  });
  it("takes a fresh connection when the cached one was closed by the server", async () => {
    // the server drops every connection after its first message, as some limit messages per session
    const peer = await startPeer({ answer: (l, s) => (l.startsWith("MAIL") && s.bodies.length >= 1 ? "close" : undefined) });
    try {
      const { h, mess, other } = home(peer.port);
      const got = await oneByOne(h, [["0", mess, "s@client.test", "a@x.test"], ["1", other, "s@client.test", "b@x.test"]]);
      assert.deepEqual(got.map((g) => g.slice(0, 1)), ["K", "K"]);
      assert.equal(peer.sessions.length, 2);
      assert.deepEqual(peer.sessions.map((s) => s.bodies.length), [1, 1]);
    } finally {
      await peer.close();
    }
  });
});

describe("recordsFor()", { timeout: 300_000 }, () => {
  const r: Record = { letter: "r", text: "" };
  const h: Record = { letter: "h", text: "no\n" };
  const K: Record = { letter: "K", text: "ok\n" };
  const Z: Record = { letter: "Z", text: "died\n" };
  const CASES: readonly [string, readonly Record[], number, number, readonly Record[]][] = [
    ["one recipient", [r, K], 0, 1, [r, K]],
    ["its own record among several", [r, h, r, K], 1, 3, [h, K]],
    ["a failure before RCPT: the message record only", [Z], 2, 3, [Z]],
    ["a conversation cut after the first RCPT reply: recipient 0", [r, Z], 0, 3, [r, Z]],
    ["a conversation cut after the first RCPT reply: recipient 2", [r, Z], 2, 3, [Z]],
    ["no records at all", [], 0, 2, []],
    ["no message record", [r, r], 1, 2, [r]],
    ["an index past the end", [r, K], 5, 1, [K]],
  ];
  for (const [name, records, i, n, want] of CASES) {
    it(name, () => assert.deepEqual(recordsFor(records, i, n), want));
  }
});
