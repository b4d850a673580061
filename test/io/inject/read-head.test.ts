import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readHead } from "../../../core/io/inject/read-head.ts";
import { fromBytes, toBytes } from "../../../core/lib/base/bytes.ts";

async function* chunks(parts: readonly (string | Uint8Array)[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield typeof p === "string" ? toBytes(p) : p;
}
async function collect(body: AsyncIterable<Uint8Array>): Promise<string> {
  let s = "";
  for await (const c of body) s += fromBytes(c);
  return s;
}

describe("readHead()", () => {
  it("finds the header end across chunk boundaries and streams the rest", async () => {
    const r = await readHead(chunks(["Subj", "ect: hi\nTo: a@x\n", "\n", "bo", "dy\n"]));
    assert.equal(r.kind, "ok");
    if (r.kind !== "ok") return;
    assert.equal(r.value.head, "Subject: hi\nTo: a@x\n");
    assert.equal(await collect(r.value.body), "body\n");
  });
  it("hands on a body that starts with a line that is not a field", async () => {
    const r = await readHead(chunks(["A: 1\nnot a field\nmore\n"]));
    assert.equal(r.kind === "ok" ? `${r.value.head}|${await collect(r.value.body)}` : "", "A: 1\n|not a field\nmore\n");
  });
  it("reads a header-only message and an empty one", async () => {
    const r = await readHead(chunks(["A: 1"]));
    assert.equal(r.kind === "ok" ? `${r.value.head}|${await collect(r.value.body)}` : "", "A: 1|");
    const e = await readHead(chunks([]));
    assert.equal(e.kind === "ok" ? `${e.value.head}|${await collect(e.value.body)}` : "", "|");
  });
  it("refuses a header over the cap as permanent without reading the whole input", async () => {
    let pulled = 0;
    async function* endless(): AsyncIterable<Uint8Array> {
      for (; pulled < 100_000; pulled++) yield toBytes(`X-Junk: ${"y".repeat(1000)}\n`);
    }
    const r = await readHead(endless(), 64 * 1024);
    assert.equal(r.kind, "perm");
    assert.ok(pulled < 100, `read ${pulled} chunks`);
  });
  it("accepts a 1 MB header line under the default cap", async () => {
    const r = await readHead(chunks([`Subject: ${"x".repeat(1_000_000)}\n\nbody`]));
    assert.equal(r.kind === "ok" ? r.value.head.length : 0, 1_000_010);
  });
  it("keeps body bytes exactly, 8-bit and NUL included", async () => {
    const body = new Uint8Array([0, 0xff, 0x0d, 0x0a, 0x80]);
    const r = await readHead(chunks(["A: 1\n\n", body]));
    assert.deepEqual(r.kind === "ok" ? toBytes(await collect(r.value.body)) : null, body);
  });
  it("turns a read error into a temporary failure", async () => {
    async function* broken(): AsyncIterable<Uint8Array> {
      yield toBytes("A: 1\n");
      throw Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" });
    }
    assert.equal((await readHead(broken())).kind, "temp");
  });
});
