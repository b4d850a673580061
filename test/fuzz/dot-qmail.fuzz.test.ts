import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { resolve, sep } from "node:path";
import fc from "fast-check";
import { dotQmailCandidates, dtLine, parseDotQmail, rpLine, ufLine } from "../../core/lib/local/dot-qmail.ts";
import { getpwCandidates } from "../../core/lib/local/assign.ts";
import { byteString, HOSTILE, params, timed, tokens } from "../support/fuzz.ts";

// qm local turns the recipient's local part (chosen by the sender) into the
// name of a .qmail file in the user's home, and into header lines. The
// .qmail text itself is the user's, read by a process running as that user.

const local = tokens([...HOSTILE, "..", "../", "/", "default", "-", "--", "DEFAULT", "-default", "./", "/etc/passwd", "\\"], 12);
const HOME = "/home/u";

describe("dotQmailCandidates()", () => {
  it("never names a file outside the home, whatever the local part", () => {
    fc.assert(
      fc.property(local, (l) => {
        for (const c of getpwCandidates(l)) {
          for (const dash of ["", "-"]) {
            for (const cand of timed(() => dotQmailCandidates(dash, c.ext))) {
              const path = resolve(HOME, cand.name);
              assert.ok(path.startsWith(HOME + sep), `${JSON.stringify(l)} -> ${cand.name} -> ${path}`);
              assert.ok(!cand.name.split("/").includes(".."), `a .. component from ${JSON.stringify(l)}: ${cand.name}`);
              assert.ok(cand.name.startsWith(".qmail"), cand.name);
            }
          }
        }
      }),
      params(3000),
    );
  });

  it("keeps qmail-local's probe order: the exact file first, then ever shorter -default files", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", "-", "x"), { maxLength: 10 }).map((a) => a.join("")), (ext) => {
        const names = dotQmailCandidates("-", ext).map((c) => c.name);
        assert.equal(names[0], `.qmail-${ext.toLowerCase()}`);
        const defaults = names.slice(1);
        assert.ok(defaults.every((n) => n.endsWith("default")));
        for (let i = 1; i < defaults.length; i++) assert.ok(defaults[i]!.length < defaults[i - 1]!.length);
        assert.equal(defaults.at(-1), ".qmail-default");
      }),
      params(1000),
    );
  });
});

describe("dtLine(), rpLine(), ufLine()", () => {
  it("write exactly one header line for any address: no header injection", () => {
    fc.assert(
      fc.property(byteString(200), byteString(60), (addr, domain) => {
        for (const line of [dtLine(addr, domain), rpLine(addr), ufLine(addr, new Date(0))]) {
          assert.ok(line.endsWith("\n"));
          assert.equal(line.indexOf("\n"), line.length - 1, `a second line in ${JSON.stringify(line)}`);
        }
      }),
      params(3000),
    );
  });
});

describe("parseDotQmail()", () => {
  it("answers any text with instructions or a temp failure, one instruction a non-empty line", () => {
    const text = tokens(["|", "&", "#", "/", "./", "Maildir/", "+list", "\n", " ", "\t", "\0", "user@host", "\r"], 40);
    fc.assert(
      fc.property(text, (t) => {
        const r = timed(() => parseDotQmail(t));
        if (r.kind !== "ok") return assert.match(r.status, /^4\./);
        const lines = t.replace(/\n$/, "").split("\n").filter((l) => l.replace(/[ \t]+$/, "") !== "");
        assert.equal(r.value.length, lines.length);
        for (const ins of r.value) {
          if (ins.kind === "program") assert.ok(!ins.command.includes("\n"));
          if (ins.kind === "mbox" || ins.kind === "maildir") assert.ok(ins.path.startsWith("/") || ins.path.startsWith("."));
        }
      }),
      params(3000),
    );
  });
});
