import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { MAX_EDITS, MAX_WAITS, MilterClient } from "../../../core/io/smtpd/milter.ts";
import { MAX_FILTERED, SessionFilters } from "../../../core/io/smtpd/filters.ts";
import { parseFilterLine, type FilterSpec } from "../../../core/lib/smtpd/filter-line.ts";
import { makePeer } from "../../../core/lib/base/peer.ts";
import { tempDir } from "../../support/qm.ts";

// The limits of one milter connection (core/io/smtpd/milter.ts) and of the
// held message (core/io/smtpd/filters.ts), against milters on unix sockets.

const dir = tempDir("qm-milter-io-");
const socks = new Set<Socket>();

function pkt(cmd: string, data = ""): Buffer {
  const d = Buffer.from(data, "latin1");
  const len = Buffer.alloc(4);
  len.writeUInt32BE(d.length + 1);
  return Buffer.concat([len, Buffer.from(cmd), d]);
}
const OPTNEG = pkt("O", "\0\0\0\x06\0\0\x01\xff\0\0\0\0");

/** A milter that negotiates, then answers end of message with `eom()`. */
function milter(name: string, eom: (s: Socket) => void): Promise<string> {
  const path = join(dir, name);
  const server = createServer((s) => {
    socks.add(s);
    s.on("error", () => {});
    s.on("data", (b: Buffer) => {
      if (b[4] === 0x4f) s.write(OPTNEG);
      if (b.includes(0x45)) eom(s);
    });
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  return new Promise((resolve) => server.listen(path, () => resolve(path)));
}
const spec = (path: string, timeout = 5): FilterSpec => {
  const r = parseFilterLine(`unix:${path}:${timeout}:tempfail`, false);
  if (r.kind !== "ok") throw new Error(r.reason);
  return r.value;
};

describe("MilterClient limits", { timeout: 60_000 }, () => {
  after(() => {
    for (const s of socks) s.destroy();
  });
  it(`takes ${MAX_EDITS} changes at one end of message, and fails the milter at one more`, { timeout: 30_000 }, async () => {
    for (const n of [MAX_EDITS, MAX_EDITS + 1]) {
      const path = await milter(`edits-${n}`, (s) => s.write(Buffer.concat([...Array.from({ length: n }, () => pkt("h", "X-A\0v\0")), pkt("c")])));
      const c = new MilterClient(spec(path));
      assert.equal(await c.open(), null);
      const { edits, verdict } = await c.endOfMessage();
      if (n === MAX_EDITS) assert.deepEqual([edits.length, verdict], [MAX_EDITS, { kind: "continue" }]);
      else assert.deepEqual(verdict, { failed: `more than ${MAX_EDITS} modifications` });
      c.close();
    }
  });
  it(`fails a milter that sends nothing but progress after ${MAX_WAITS} timeouts`, { timeout: 30_000 }, async () => {
    const path = await milter("progress", (s) => {
      const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write(pkt("p"))), 200);
      s.on("close", () => clearInterval(t));
    });
    const c = new MilterClient(spec(path, 1));
    assert.equal(await c.open(), null);
    const { verdict } = await c.endOfMessage();
    assert.deepEqual(verdict, { failed: "no reply within 1 s" });
    assert.equal(c.connected, false);
  });
});

describe("SessionFilters.message()", { timeout: 30_000 }, () => {
  it(`refuses a message over ${MAX_FILTERED} bytes with 552 and reads no further`, async () => {
    const f = new SessionFilters({ policyservers: [], milters: [spec(join(dir, "none"))] }, { sid: "1.1", me: "example.test", peer: makePeer(() => undefined), tls: () => null, log: () => {} });
    let pulled = 0;
    const pull = async () => (pulled++, new Uint8Array(1));
    const big = await f.message([new Uint8Array(MAX_FILTERED), new Uint8Array(1)], pull, { done: false, problem: null, fatal: null }, { sender: "a@x", recipients: ["b@y"] } as never);
    assert.equal(big.refuse, `552 5.3.4 the message is over the ${MAX_FILTERED} bytes the mail filters can hold`);
    assert.equal(pulled, 0);
    const atLimit = await f.message([new Uint8Array(MAX_FILTERED - 1)], pull, { done: false, problem: null, fatal: null }, { sender: "a@x", recipients: ["b@y"] } as never);
    assert.match(atLimit.refuse ?? "", /^552 /, "still not done after one more byte");
    assert.equal(pulled, 2, "held up to the limit, then refused");
    f.close();
  });
});
