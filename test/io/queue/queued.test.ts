// qm queued's socket in-process (core/io/queue/queued-server.ts and
// queued-client.ts): what a listener's message becomes in the queue, and what
// hostile or broken clients leave behind (nothing).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createConnection, createServer, type Socket } from "node:net";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { toBytes } from "../../../core/lib/base/bytes.ts";
import { splitPath, flatPath } from "../../../core/lib/queue/layout.ts";
import { GREETING } from "../../../core/lib/queue/queued-wire.ts";
import { listenQueued, type QueuedServer } from "../../../core/io/queue/queued-server.ts";
import { queuedSocket } from "../../../core/lib/queue/layout.ts";
import { handToQueued } from "../../../core/io/queue/queued-client.ts";
import { submit } from "../../../core/io/queue/submit.ts";
import { fakeHome, queueFiles } from "../../support/send-env.ts";

const servers: QueuedServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function serving(opts: { maxConnections?: number; idleMs?: number; stopMs?: number } = {}): Promise<{ home: string; path: string; server: QueuedServer; log: string[] }> {
  const home = await fakeHome();
  const log: string[] = [];
  const s = await listenQueued(home, { log: (l) => log.push(l), ...opts });
  assert.equal(s.kind, "ok", JSON.stringify(s));
  if (s.kind !== "ok") throw new Error("unreachable");
  servers.push(s.value);
  return { home, path: queuedSocket(home), server: s.value, log };
}

async function* chunks(parts: readonly string[]): AsyncIterable<Uint8Array> {
  for (const p of parts) {
    await new Promise((r) => setImmediate(r));
    yield toBytes(p);
  }
}

/** A raw client: connects, waits for the greeting, sends `bytes` (then ends when `end`), returns what the server said after the greeting. */
function raw(path: string, bytes: Uint8Array | string, end = true, ms = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock: Socket = createConnection(path);
    let got = "";
    let greeted = false;
    const timer = setTimeout(() => (sock.destroy(), reject(new Error(`no end; got ${JSON.stringify(got)}`))), ms);
    sock.setEncoding("latin1");
    sock.on("data", (s: string) => {
      got += s;
      if (!greeted && got.startsWith(GREETING)) {
        greeted = true;
        got = got.slice(GREETING.length);
        if (end) sock.end(bytes);
        else sock.write(bytes);
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => (clearTimeout(timer), resolve(got)));
  });
}

/** No message files are left in the queue: nothing in mess/, intd/, todo/, pid/. */
function nothingQueued(home: string): void {
  assert.deepEqual(queueFiles(home).filter((f) => /^(?:mess|intd|todo|pid|info)\//.test(f)), []);
}

describe("qm queued's socket", { timeout: 60_000 }, () => {
  it("queues a streamed message through enqueue(): the listener's Received line, its uid, the envelope with its DSN records", async () => {
    const { home, path } = await serving();
    const env = { sender: "joe@client.test", recipients: ["a@example.test", "b@remote.test"] };
    const r = await handToQueued(path, chunks(["Subject: streamed\n", "\n", "line one\n", "line two\n"]), env, { uid: 65534, who: "network" });
    assert.ok(r && r.kind === "ok", JSON.stringify(r));
    const id = r.value.id;
    assert.ok(existsSync(join(home, "queue", flatPath("todo", id))), "committed: todo/<id> exists");
    const mess = readFileSync(join(home, "queue", splitPath("mess", id)), "latin1");
    assert.match(mess, /^Received: \(qmail \d+ invoked from network\); .*\nSubject: streamed\n\nline one\nline two\n$/);
    const info = readFileSync(join(home, "queue", flatPath("intd", id)), "latin1");
    assert.match(info, /^u65534\0p\d+\0Fjoe@client\.test\0Ta@example\.test\0Tb@remote\.test\0$/);
  });

  it("cuts a large message into chunks and takes an uid invoker's Received line", async () => {
    const { home, path } = await serving();
    const big = new Uint8Array(3 * (1 << 20) + 17).fill(0x78);
    const r = await handToQueued(path, big, { sender: "", recipients: ["a@example.test"] }, { uid: 4242, who: "uid" });
    assert.ok(r && r.kind === "ok", JSON.stringify(r));
    const mess = readFileSync(join(home, "queue", splitPath("mess", r.value.id)));
    const nl = mess.indexOf(0x0a);
    assert.match(mess.subarray(0, nl).toString("latin1"), /^Received: \(qmail \d+ invoked by uid 4242\);/);
    assert.equal(mess.length - nl - 1, big.length);
    assert.match(readFileSync(join(home, "queue", flatPath("intd", r.value.id)), "latin1"), /^u4242\0p\d+\0F\0Ta@example\.test\0$/);
  });

  it("is not used when nobody greets: a missing socket, a stale one, a full server (the caller writes maildrop/)", async () => {
    const home = await fakeHome();
    const env = { sender: "a@b.test", recipients: ["c@example.test"] };
    const msg = toBytes("Subject: x\n\nx\n");
    assert.equal(await handToQueued(join(home, "queue/lock/queued/socket"), msg, env, { uid: 1, who: "uid" }), null);
    // a socket file nobody listens on (a killed qm queued's)
    const stale = join(home, "queue", "stale.sock");
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(stale, () => r()));
    await new Promise<void>((r) => srv.close(() => r()));
    // Node removes a unix socket's file on close; listen again and leave it without accepting anything useful
    const mute = createServer((s) => s.destroy());
    await new Promise<void>((r) => mute.listen(stale, () => r()));
    assert.equal(await handToQueued(stale, msg, env, { uid: 1, who: "uid" }, { greetMs: 2000, replyMs: 2000 }), null);
    await new Promise<void>((r) => mute.close(() => r()));
    // a server that never greets: the client gives up after greetMs and takes nothing
    const silent = createServer(() => {});
    const quiet = join(home, "queue", "quiet.sock");
    await new Promise<void>((r) => silent.listen(quiet, () => r()));
    const t0 = Date.now();
    assert.equal(await handToQueued(quiet, msg, env, { uid: 1, who: "uid" }, { greetMs: 300, replyMs: 2000 }), null);
    assert.ok(Date.now() - t0 < 5000);
    silent.close();
    // qm queued at its connection limit closes the newcomer without a greeting
    const full = await serving({ maxConnections: 1 });
    const holder = createConnection(full.path);
    await new Promise<void>((r) => holder.once("data", () => r()));
    assert.equal(await handToQueued(full.path, msg, env, { uid: 1, who: "uid" }), null);
    holder.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const again = await handToQueued(full.path, msg, env, { uid: 1, who: "uid" });
    assert.ok(again && again.kind === "ok", JSON.stringify(again));
  });

  it("makes the socket 0660 in a 0710 directory, both of the queue's group; root's submit() still writes the queue itself", async () => {
    const { home } = await serving();
    // submit() chooses qm queued only for other uids (test/prog/queued.test.ts runs smtpd as one)
    const st = statSync(queuedSocket(home));
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(statSync(join(home, "queue/lock/queued")).mode & 0o777, 0o710);
    assert.equal(st.gid, statSync(join(home, "queue")).gid, "the socket's group is the queue's");
    const r = await submit(home, toBytes("Subject: direct\n\nx\n"), { sender: "a@b.test", recipients: ["c@example.test"] });
    assert.ok(r.kind === "ok" && r.value.id !== undefined);
  });

  it("refuses a second qm queued while one answers", async () => {
    const { home } = await serving();
    const second = await listenQueued(home, { log: () => {} });
    assert.equal(second.kind, "temp");
    assert.match(second.kind === "temp" ? second.reason : "", /another qm queued/);
  });

  describe("hostile and broken clients leave nothing in the queue", () => {
    const cases: [string, string | Uint8Array, RegExp][] = [
      ["a hello that is not one", "HELO me\n", /^Z54 .*not a hello line/],
      ["a hello line without end", "1 0 network".padEnd(5000, "x"), /^Z54 .*line too long/],
      ["a chunk length with a sign", "1 0 network\n-5\nabcde", /^Z54 .*bad chunk length/],
      ["a chunk longer than the limit", `1 0 network\n${(1 << 20) + 1}\n`, /^Z54 .*bad chunk length/],
      ["a length with leading zeros", "1 0 network\n05\nabcde0\n", /^Z54 .*bad chunk length/],
      ["the connection closed inside a chunk", "1 0 network\n100\nonly a few bytes", /^Z54 .*closed the connection early/],
      ["the connection closed before the envelope", "1 0 network\n3\nabc0\n", /^Z54 .*closed the connection early/],
      ["an empty envelope", "1 0 network\n3\nabc0\n0\n", /^Z91 .*bad envelope length/],
      ["an envelope that is not one", "1 0 network\n3\nabc0\n6\nXjunk\0", /^Z91 /],
      ["an envelope without its end", "1 0 network\n3\nabc0\n8\nFa@b\0Tc\0", /^Z54 /],
      ["an envelope longer than the limit", `1 0 network\n3\nabc0\n${(16 << 20) + 1}\n`, /^Z91 .*bad envelope length/],
      ["an address too long", `1 0 network\n3\nabc0\n${1010 + 4}\nF${"a".repeat(1010)}\0\0\0`, /^(?:D11|Z91|Z54) /],
    ];
    for (const [what, bytes, reply] of cases) {
      it(what, async () => {
        const { home, path, log } = await serving();
        const got = await raw(path, bytes);
        assert.match(got, reply);
        assert.ok(got.endsWith("\n") && got.indexOf("\n") === got.length - 1, JSON.stringify(got));
        nothingQueued(home);
        assert.ok(log.some((l) => l.startsWith("queued: warning: message not queued: ")), log.join("\n"));
      });
    }

    it("a client that says nothing is dropped after the idle time", async () => {
      const { home, path } = await serving({ idleMs: 200 });
      const got = await raw(path, "1 0 network\n5\nab", false, 10_000);
      assert.equal(got, "", "no reply to a client that was dropped");
      nothingQueued(home);
    });
  });

  it("close() waits for the message under way, and the socket takes no new one", async () => {
    const { home, path, server } = await serving();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    async function* slow(): AsyncIterable<Uint8Array> {
      yield toBytes("Subject: slow\n\n");
      await gate;
      yield toBytes("end\n");
    }
    const pending = handToQueued(path, slow(), { sender: "a@b.test", recipients: ["c@example.test"] }, { uid: 1, who: "uid" });
    await new Promise((r) => setTimeout(r, 100));
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(closed, false, "still waiting for the message under way");
    assert.equal(await handToQueued(path, toBytes("x\n"), { sender: "", recipients: ["c@example.test"] }, { uid: 1, who: "uid" }, { greetMs: 1000, replyMs: 1000 }), null);
    release();
    const r = await pending;
    assert.ok(r && r.kind === "ok", JSON.stringify(r));
    await closing;
    assert.ok(existsSync(join(home, "queue", flatPath("todo", r.value.id))));
  });

  it("close() cuts a message that does not end within stopMs: not acknowledged, nothing kept", async () => {
    const { home, path, server } = await serving({ stopMs: 200 });
    let release: () => void = () => {};
    const never = new Promise<void>((r) => (release = r));
    async function* stalled(): AsyncIterable<Uint8Array> {
      yield toBytes("Subject: stalled\n\n");
      await never;
    }
    const pending = handToQueued(path, stalled(), { sender: "a@b.test", recipients: ["c@example.test"] }, { uid: 1, who: "uid" });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await server.close();
    assert.ok(Date.now() - t0 < 5000, "close() did not wait for the stalled client");
    release();
    const r = await pending;
    assert.ok(r && r.kind === "temp", JSON.stringify(r));
    nothingQueued(home);
  });
});
