import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeReply, MAX_PACKET, takePacket } from "../../core/lib/smtpd/milter.ts";
import { editHeader, formatField, joinMessage, splitMessage } from "../../core/lib/smtpd/milter-edit.ts";
import { parseAnswer, readAction } from "../../core/lib/smtpd/policyd.ts";
import { parseFilterLine } from "../../core/lib/smtpd/filter-line.ts";
import { byteString, params, timed } from "../support/fuzz.ts";

// What milters and policy servers send qm smtpd (qm-smtpd(8), "Policy servers
// and milters") is outside input: any bytes give a reply, an error or a wait
// for more, never an exception, and every refusal is a well-formed SMTP reply.

const REPLY = /^[45]\d\d[ -][\x20-\x7e]*$/;

describe("milter replies", () => {
  it("any bytes frame into a packet, an error or a wait, and any packet decodes or is refused", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(..."acdrtspfyhim+-2ebqOZ\0"), (bytes, cmd) => {
        const p = timed(() => takePacket(bytes));
        if (typeof p === "object" && "cmd" in p) assert.ok(p.data.length < MAX_PACKET);
        const d = timed(() => decodeReply(cmd.charCodeAt(0), bytes));
        if (d.ok && d.reply.kind === "replycode") for (const l of d.reply.lines) assert.match(l, REPLY);
      }),
      params(3000),
    );
  });
});

describe("policy answers", () => {
  it("any text parses, fails or waits; any action is obeyed with a well-formed reply, or refused", () => {
    fc.assert(
      fc.property(byteString(400), (text) => {
        timed(() => parseAnswer(text));
        const v = timed(() => readAction(text));
        if (typeof v === "object" && v.kind === "refuse") assert.match(v.reply, REPLY);
        if (typeof v === "object" && v.kind === "prepend") assert.doesNotMatch(v.field, /[\r\n]/);
      }),
      params(3000),
    );
  });
  it("control lines parse or are refused", () => {
    fc.assert(fc.property(byteString(100), (line) => void timed(() => parseFilterLine(line, true))), params(2000));
  });
});

describe("splitMessage()", () => {
  it("joins back to the same bytes, and a milter's field never adds a line that does not start with a blank", () => {
    fc.assert(
      fc.property(byteString(300), byteString(100), (msg, value) => {
        const bytes = Buffer.from(msg, "latin1");
        const h = timed(() => splitMessage(bytes));
        assert.deepEqual(Buffer.from(joinMessage(h)), bytes);
        const f = formatField("X-F", value);
        assert.ok(f.endsWith("\n") && !f.slice(0, -1).split("\n").slice(1).some((l) => !/^[ \t]/.test(l)), JSON.stringify(f));
        assert.ok(!f.includes("\r"));
        const added = editHeader(h, { kind: "addheader", name: "X-F", value });
        assert.equal(added.fields.length, h.fields.length + 1);
      }),
      params(2000),
    );
  });
});
