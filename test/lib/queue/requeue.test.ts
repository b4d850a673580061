import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { originalRecipient, resplit } from "../../../core/lib/queue/requeue.ts";
import { rewrite, type RewriteRules } from "../../../core/lib/send/rewrite.ts";

function rules(locals: string[], vd: [string, string][] = []): RewriteRules {
  return { locals: new Set(locals), virtualdomains: new Map(vd), percenthack: new Set(), envnoathost: "example.test" };
}

describe("originalRecipient()", () => {
  const today = rules(["example.test"], [["virt.test", "joe"], ["dash.test", "a-b"]]);
  const CASES = [
    ["a remote address is itself", "remote", "bob@far.test", "bob@far.test"],
    ["a local address of a local domain is itself", "local", "x-y@example.test", "x-y@example.test"],
    ["a virtual domain's prefix comes off", "local", "joe-sue@virt.test", "sue@virt.test"],
    ["a prefix with a dash in it comes off whole", "local", "a-b-c-d@dash.test", "c-d@dash.test"],
    ["a prefix today's rules do not give stays", "local", "old-sue@gone.test", "old-sue@gone.test"],
    ["an address without @ stays", "local", "joe-sue", "joe-sue"],
  ] as const;
  for (const [name, channel, addr, want] of CASES) it(name, () => assert.equal(originalRecipient({ channel, addr }, today), want));

  it("inverts rewrite() for every virtualdomains address", () => {
    for (const orig of ["sue@virt.test", "s-u-e@virt.test", "x@dash.test", "a-b@dash.test"]) {
      const routed = rewrite(orig, today);
      assert.equal(originalRecipient({ channel: routed.channel, addr: routed.addr }, today), orig);
    }
  });
});

describe("resplit()", () => {
  it("moves a domain taken out of locals to remote and a domain made virtual to local", () => {
    const before = rules(["example.test", "moved.test"]);
    const after = rules(["example.test"], [["far.test", "far"]]);
    const pending = [
      { channel: "local" as const, addr: rewrite("a@moved.test", before).addr },
      { channel: "remote" as const, addr: rewrite("b@far.test", before).addr },
      { channel: "local" as const, addr: "c@example.test" },
    ];
    assert.deepEqual(resplit(pending, after), { local: ["far-b@far.test", "c@example.test"], remote: ["a@moved.test"] });
  });
});
