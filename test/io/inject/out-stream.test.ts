import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { writeAll } from "../../../core/io/inject/out-stream.ts";

async function* gen(n: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < n; i++) yield new Uint8Array(64 * 1024).fill(i);
}

describe("writeAll()", () => {
  it("copies every chunk, waiting for drain", async () => {
    const sink = new PassThrough({ highWaterMark: 1024 });
    let got = 0;
    sink.on("data", (b: Buffer) => (got += b.length));
    assert.deepEqual(await writeAll(sink, gen(50)), { kind: "ok", value: true });
    assert.equal(got, 50 * 64 * 1024);
  });
  it("stops with a temporary failure when the stream errors (reader gone)", async () => {
    let writes = 0;
    const broken = new Writable({
      write(_chunk, _enc, cb) {
        writes++;
        cb(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const r = await writeAll(broken, gen(1000));
    assert.equal(r.kind, "temp");
    assert.ok(writes < 5, `${writes} writes`);
  });
  it("stops with a temporary failure when write() throws, as Bun's stdout does", async () => {
    const throwing = new Writable({ write(_c, _e, cb) { cb(); } });
    throwing.write = () => { throw Object.assign(new Error("EPIPE"), { code: "EPIPE" }); };
    assert.equal((await writeAll(throwing, gen(3))).kind, "temp");
  });
});
