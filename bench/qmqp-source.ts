// A QMQP load generator, the counterpart of Postfix's smtp-source: M messages
// of L bytes over S concurrent connections, one message a connection, to HOST:PORT.
// Usage: node --import tsx bench/qmqp-source.ts HOST:PORT [M] [S] [L]
import { connect } from "node:net";
import { decodeReply, encodeRequest } from "../core/lib/qmqp/protocol.ts";

const [target = "127.0.0.1:628", m = "1000", s = "20", l = "2048"] = process.argv.slice(2);
const [host = "127.0.0.1", port = "628"] = target.split(":");
const total = Number(m);
const body = `From: bench@example.test\nTo: postmaster@example.test\nSubject: bench\n\n${"x".repeat(75)}\n`.repeat(Math.max(1, Math.ceil(Number(l) / 120)));
const request = encodeRequest(new TextEncoder().encode(body), { sender: "bench@example.test", recipients: ["postmaster@example.test"] });

let next = 0;
const tally = new Map<string, number>();
function one(): Promise<void> {
  return new Promise((resolve) => {
    const sock = connect({ host, port: Number(port) });
    let got = Buffer.alloc(0);
    const done = (what: string) => {
      tally.set(what, (tally.get(what) ?? 0) + 1);
      sock.destroy();
      resolve();
    };
    sock.setTimeout(60_000, () => done("timeout"));
    sock.on("error", () => done("error"));
    sock.on("data", (b: Buffer) => {
      got = Buffer.concat([got, b]);
      const r = decodeReply(got);
      if (r !== "more") done(r === null ? "bad reply" : r.code);
    });
    sock.on("end", () => done("hang-up"));
    sock.write(request); // no half-close: qmail-qmqpc does not shut its side down either
  });
}
async function worker(): Promise<void> {
  while (next < total) {
    next++;
    await one();
  }
}
const start = performance.now();
await Promise.all(Array.from({ length: Math.min(Number(s), total) }, worker));
const secs = (performance.now() - start) / 1000;
process.stdout.write(`qmqp-source: ${total} messages in ${secs.toFixed(2)} s: ${(total / secs).toFixed(0)} msg/s; ${[...tally].map(([k, v]) => `${k}=${v}`).join(" ")}\n`);
