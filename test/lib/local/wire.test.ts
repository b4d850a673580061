import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  encodeWorkerReply, encodeWorkerRequest, LOCAL_EXIT, LOCAL_FIELDS, localArgs, localOutcome, workerReplyReader, workerRequestReader, WORKER_MAX_BODY, WORKER_MAX_TEXT,
} from "../../../core/lib/local/wire.ts";

const REQ = { user: "bob", home: "/home/bob", local: "bob", dash: "-", ext: "x", domain: "example.test", sender: "a@b", defaultDelivery: "./Maildir/" };

describe("localArgs()", () => {
  it("puts a request in qmail-local's argument order", () => {
    assert.deepEqual(localArgs(REQ), ["bob", "/home/bob", "bob", "-", "x", "example.test", "a@b", "./Maildir/"]);
    assert.equal(LOCAL_FIELDS.length, 8);
  });
});

describe("worker requests", () => {
  it("are read back with their body, split at any byte", () => {
    const body = Buffer.from("Subject: hi\n\nbody\n");
    const bytes = Buffer.concat([Buffer.from(encodeWorkerRequest("7", localArgs(REQ), body.length, "1000S")), body, Buffer.from(encodeWorkerRequest("8", localArgs(REQ), 0))]);
    for (const size of [1, 3, 50, bytes.length]) {
      const read = workerRequestReader();
      const got = [];
      for (let i = 0; i < bytes.length; i += size) got.push(...read(bytes.subarray(i, i + size)));
      assert.deepEqual(got.map((r) => ("error" in r ? r : [r.id, r.args, r.quota, Buffer.from(r.body).toString()])), [["7", localArgs(REQ), "1000S", body.toString()], ["8", localArgs(REQ), "", ""]]);
    }
  });
  it(`refuse a body over WORKER_MAX_BODY (${WORKER_MAX_BODY}) and read nothing after it`, () => {
    const read = workerRequestReader();
    assert.deepEqual(read(encodeWorkerRequest("1", localArgs(REQ), WORKER_MAX_BODY + 1)), [{ error: "bad length" }]);
    assert.deepEqual(read(encodeWorkerRequest("2", localArgs(REQ), 0)), []);
  });
});

describe("worker replies", () => {
  it("carry the exit code; a code that is not a number reads as a crash", () => {
    const read = workerReplyReader();
    const bytes = Buffer.concat([Buffer.from(encodeWorkerReply("1", 0, "did 1+0+0\n")), Buffer.from("2\0x\0oops\0")]);
    assert.deepEqual(read(bytes), [{ id: "1", code: 0, text: "did 1+0+0\n" }, { id: "2", code: null, text: "oops" }]);
  });
  it(`cut the text at WORKER_MAX_TEXT (${WORKER_MAX_TEXT}), which the reader takes whole`, () => {
    const [r] = workerReplyReader()(encodeWorkerReply("1", 111, "\u20ac".repeat(WORKER_MAX_TEXT * 2)));
    assert.equal(r?.code, 111);
    assert.equal(Buffer.from(r!.text, "latin1").toString("utf8").length, WORKER_MAX_TEXT);
  });
});

describe("localOutcome()", () => {
  const CASES = [
    [LOCAL_EXIT.ok, "K"], [99, "D"], [LOCAL_EXIT.perm, "D"], [LOCAL_EXIT.temp, "Z"], [71, "Z"], [74, "Z"], [75, "Z"], [1, "D"], [null, "Z"],
  ] as const;
  for (const [code, letter] of CASES) {
    it(`maps exit ${code} to ${letter}`, () => assert.equal(localOutcome(code, "t\n").letter, letter));
  }
  it("says a crash crashed", () => assert.equal(localOutcome(null, "out\n").text, "out\nqm local crashed. (#4.3.0)\n"));
});
