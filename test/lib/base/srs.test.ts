import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { SRS_HASH_LENGTH, SRS_MAX_AGE_DAYS, srsForward, srsReverse, srsStamp, type SrsKeys } from "../../../core/lib/base/srs.ts";

// The Sender Rewriting Scheme's pure part: forward, reverse, SRS1 for a
// forward of a forward, and what a hostile or stale address gets.
const mac = (secret: string) => (data: string) => createHmac("sha1", secret).update(data, "latin1").digest("base64");
const keys: SrsKeys = { domain: "fwd.example", macs: [mac("first secret 0123456789")] };
const rotated: SrsKeys = { domain: "fwd.example", macs: [mac("new secret 0123456789"), mac("first secret 0123456789")] };
const other: SrsKeys = { domain: "fwd.example", macs: [mac("someone else's secret")] };
const DAY = 20_000;
const none = () => false;

describe("SRS", () => {
  it("SRS0 for a foreign sender, reversed to it again; the domain keeps its case, the hash is case-blind", () => {
    const s = srsForward("Alice@Pass.Test", keys, DAY, none);
    assert.match(s, new RegExp(`^SRS0=[A-Za-z0-9+/]{${SRS_HASH_LENGTH}}=${srsStamp(DAY)}=Pass\\.Test=Alice@fwd\\.example$`));
    assert.deepEqual(srsReverse(s, keys, DAY), { kind: "ok", addr: "Alice@Pass.Test" });
    assert.deepEqual(srsReverse(s.toLowerCase(), keys, DAY), { kind: "ok", addr: "alice@pass.test" }, "a host that lowercases the address");
    assert.deepEqual(srsReverse(s.replace("@fwd.example", "@FWD.example"), keys, DAY + SRS_MAX_AGE_DAYS), { kind: "ok", addr: "Alice@Pass.Test" });
  });
  it("leaves alone the null sender, #@[], an address without a domain, our own domains and the SRS domain", () => {
    for (const s of ["", "#@[]", "nodomain", "user@", "@x"]) assert.equal(srsForward(s, keys, DAY, none), s);
    assert.equal(srsForward("bob@local.test", keys, DAY, (d) => d === "local.test"), "bob@local.test");
    assert.equal(srsForward("bob@FWD.example", keys, DAY, none), "bob@FWD.example");
  });
  it("a local part with = and @ in it survives the round trip", () => {
    const s = srsForward('"a=b@c"=d@x.test', keys, DAY, none);
    assert.deepEqual(srsReverse(s, keys, DAY), { kind: "ok", addr: '"a=b@c"=d@x.test' });
  });
  it("an SRS0 sender at another forwarder becomes SRS1, which reverses to that SRS0 address; SRS1 in, SRS1 out", () => {
    const them = "SRS0=abcd=XY=orig.test=bob@hop1.test";
    const s1 = srsForward(them, keys, DAY, none);
    assert.match(s1, /^SRS1=[^=]{6}=hop1\.test==abcd=XY=orig\.test=bob@fwd\.example$/);
    assert.deepEqual(srsReverse(s1, keys, DAY), { kind: "ok", addr: them });
    const s2 = srsForward("SRS1=zzzz=hop1.test==abcd=XY=orig.test=bob@hop2.test", keys, DAY, none);
    assert.match(s2, /^SRS1=[^=]{6}=hop1\.test==abcd=XY=orig\.test=bob@fwd\.example$/, "no growth with hops");
    assert.deepEqual(srsReverse(s2, keys, DAY), { kind: "ok", addr: them });
    assert.match(srsForward("SRS0+abcd=XY=orig.test=bob@hop1.test", keys, DAY, none), /^SRS1=[^=]{6}=hop1\.test=\+abcd=XY/, "libsrs2's + separator");
  });
  it("every secret in the list is accepted; the first makes new addresses", () => {
    const old = srsForward("a@x.test", keys, DAY, none);
    assert.equal(srsReverse(old, rotated, DAY)?.kind, "ok");
    const fresh = srsForward("a@x.test", rotated, DAY, none);
    assert.notEqual(fresh, old);
    assert.equal(srsReverse(fresh, keys, DAY)?.kind, "bad", "the old list does not know the new secret");
  });
  it("refuses forged, tampered, expired and malformed addresses with a reason", () => {
    const s = srsForward("alice@pass.test", keys, DAY, none);
    assert.deepEqual(srsReverse(s, other, DAY), { kind: "bad", reason: "SRS hash does not match" });
    assert.deepEqual(srsReverse(s.replace("=alice@", "=mallory@"), keys, DAY), { kind: "bad", reason: "SRS hash does not match" });
    assert.deepEqual(srsReverse(s.replace("pass.test", "evil.test"), keys, DAY), { kind: "bad", reason: "SRS hash does not match" });
    assert.deepEqual(srsReverse(s, keys, DAY + SRS_MAX_AGE_DAYS + 1), { kind: "bad", reason: `SRS address expired (${SRS_MAX_AGE_DAYS + 1} days old)` });
    assert.equal(srsReverse(s, keys, DAY + 1024)?.kind, "ok", "the stamp wraps every 1024 days, as in every SRS implementation");
    for (const bad of ["SRS0=@fwd.example", "SRS0==@fwd.example", "SRS0=a=b=c@fwd.example", "SRS1=abc@fwd.example", "SRS1=h=hop==@fwd.example", "SRS1=h=hop=x@fwd.example", `SRS0=${"A".repeat(600)}=AA=x=y@fwd.example`]) {
      assert.equal(srsReverse(bad, keys, DAY)?.kind, "bad", bad);
    }
    const hash = s.slice(5, 5 + SRS_HASH_LENGTH);
    assert.deepEqual(srsReverse(`SRS0=${hash}=!!=pass.test=alice@fwd.example`, keys, DAY)?.kind, "bad");
  });
  it("is not ours: another domain, a plain local part, an address without @", () => {
    assert.equal(srsReverse(srsForward("a@x.test", keys, DAY, none).replace("fwd.example", "other.example"), keys, DAY), null);
    assert.equal(srsReverse("postmaster@fwd.example", keys, DAY), null);
    assert.equal(srsReverse("SRS0", keys, DAY), null);
    assert.equal(srsReverse("SRS2=a=b=c=d@fwd.example", keys, DAY), null);
  });
  it("the stamp is two base32 letters of the day modulo 1024", () => {
    assert.equal(srsStamp(0), "AA");
    assert.equal(srsStamp(33), "BB");
    assert.equal(srsStamp(1023), "77");
    assert.equal(srsStamp(1024), "AA");
  });
});
