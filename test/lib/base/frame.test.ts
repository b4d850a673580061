import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createFrameReader, encodeFields } from "../../../core/lib/base/frame.ts";

describe("createFrameReader()", () => {
  it("reads fields and bodies split at any byte", () => {
    const bytes = Buffer.concat([Buffer.from(encodeFields(["1", "a", "3"])), Buffer.from("xyz"), Buffer.from(encodeFields(["2", "b", "0"]))]);
    for (const size of [1, 2, 5, 100]) {
      const r = createFrameReader(3, { bodyField: 2, maxBody: 10 });
      const frames = [];
      for (let i = 0; i < bytes.length; i += size) frames.push(...r.push(bytes.subarray(i, i + size)));
      assert.deepEqual(frames.map((f) => f.kind === "frame" && [f.frame.fields, Buffer.from(f.frame.body!).toString()]), [[["1", "a", "3"], "xyz"], [["2", "b", "0"], ""]]);
      assert.equal(r.partial(), false);
    }
  });
  it("stops on an overlong field or a bad length", () => {
    assert.equal(createFrameReader(2, { maxField: 4 }).push(Buffer.from("12345\0"))[0]?.kind, "error");
    assert.equal(createFrameReader(2, { bodyField: 1, maxBody: 10 }).push(Buffer.from("1\0" + "11\0"))[0]?.kind, "error");
    assert.equal(createFrameReader(2, { bodyField: 1, maxBody: 10 }).push(Buffer.from("1\0-1\0"))[0]?.kind, "error");
  });
  it("turns NUL inside a field into ?", () => {
    assert.equal(Buffer.from(encodeFields(["a\0b"])).toString("latin1"), "a?b\0");
  });
});
