import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { listenerArgs, parseListener } from "../../core/lib/smtpd/listen.ts";
import { authReply } from "../../core/lib/smtpd/dovecot.ts";
import { parseSenderLogins, senderAllowed } from "../../core/lib/smtpd/policy.ts";
import { byteString, HOSTILE, params, timed, tokens } from "../support/fuzz.ts";
import { shake } from "../support/dovecot-handshake.ts";

// The inputs of submission: a control/listen line (hand-written, and the
// argv qm start builds from it), control/senderlogins, and the replies of
// Dovecot's auth service. No throw, bounded time, nothing odd passed on.


describe("control/listen lines", () => {
  it("never throws on hostile lines, and what it accepts is well-formed", () => {
    const WORDS = [...HOSTILE, "127.0.0.1:25", "[::1]:587", "smtp", "submission", "smtps", "max=", "max-per-ip=", "rules=", "1", "0", "99999999", "=", "r.x", " ", "\t"];
    fc.assert(
      fc.property(tokens(WORDS, 12), (line) => {
        const r = timed(() => parseListener(line, "l"));
        if (r.kind !== "ok") return;
        const args = listenerArgs(r.value);
        for (const a of args) assert.ok(!/[\s\0]/.test(a) && !a.includes(".."), `argument ${JSON.stringify(a)} from ${JSON.stringify(line)}`);
      }),
      params(2000),
    );
  });
});

describe("Dovecot auth replies", () => {
  it("never throws on hostile server lines, in bounded time", () => {
    fc.assert(
      fc.property(fc.array(byteString(300), { maxLength: 12 }), (lines) => {
        timed(() => shake(lines));
        for (const l of lines) {
          const v = timed(() => authReply(1, l));
          if (v?.kind === "ok" && v.user !== null) assert.ok(!/[\0-\x1f]/.test(v.user));
        }
      }),
      params(2000),
    );
  });
});

describe("control/senderlogins", () => {
  it("never throws on hostile lines", () => {
    fc.assert(
      fc.property(fc.array(byteString(200), { maxLength: 20 }), byteString(50), byteString(50), (lines, u, s) => {
        timed(() => senderAllowed(parseSenderLogins(lines), u, s));
      }),
      params(1000),
    );
  });
});
