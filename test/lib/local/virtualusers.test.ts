import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { findVirtualUser, parseVirtualUsers, virtualHome } from "../../../core/lib/local/virtualusers.ts";

describe("parseVirtualUsers()", () => {
  it("reads address:uid:gid:mailbox[:quota[:hash]], skipping blank and # lines; a later line wins", () => {
    const r = parseVirtualUsers("# users\n\nAnn@V.test:4300:4301:/var/vmail/ann/Maildir/:1000000\nbob@v.test:4300:4300:/var/vmail/bob/Maildir/:500S,10C:$6$s$h\nann@v.test:4300:4300:/var/vmail/ann2/Maildir/\n");
    assert.equal(r.kind, "ok");
    const m = r.kind === "ok" ? r.value : new Map();
    assert.deepEqual(m.get("ann@v.test"), { address: "ann@v.test", uid: 4300, gid: 4300, mailbox: "/var/vmail/ann2/Maildir/", quota: null, hash: null });
    assert.deepEqual(m.get("bob@v.test"), { address: "bob@v.test", uid: 4300, gid: 4300, mailbox: "/var/vmail/bob/Maildir/", quota: "500S,10C", hash: "$6$s$h" });
    assert.equal(virtualHome(m.get("bob@v.test")!), "/var/vmail/bob");
  });
  it("refuses a bad line with its number (temp)", () => {
    for (const bad of [
      "ann@v.test:0:0:/var/vmail/ann/Maildir/", "ann@v.test:x:1:/m/", "ann@v.test:1:1:relative/Maildir/", "ann@v.test:1:1:/var/mbox",
      "ann@v.test:1:1:/var/../etc/", "ann@v.test:1:1:/", "nobody:1:1:/m/", "@v.test:1:1:/m/", "ann@:1:1:/m/", "ann@v.test:1:1",
      "ann@v.test:1:1:/m/:lots", "ann@v.test:1:1:/m/:1S:h:extra", "a b@v.test:1:1:/m/", `ann@v.test:1:1:/${"m".repeat(2000)}/`, "ann@v.test:1:1:/m/\0",
      "ann@v.test:99999999999:1:/m/",
    ]) {
      const r = parseVirtualUsers(`# ok\n${bad}\n`);
      assert.equal(r.kind, "temp", bad.slice(0, 40));
      assert.match(r.kind === "temp" ? r.reason : "", /bad line 2$/);
    }
  });
});

describe("findVirtualUser()", () => {
  const parsed = parseVirtualUsers("ann@v.test:4300:4300:/v/ann/Maildir/\n");
  const users = parsed.kind === "ok" ? parsed.value : new Map();
  it("finds the address in any case, and without a virtualdomains prefix", () => {
    assert.equal(findVirtualUser(users, "ANN", "V.test", [])?.address, "ann@v.test");
    assert.equal(findVirtualUser(users, "vee-ann", "v.test", ["vee"])?.address, "ann@v.test");
    assert.equal(findVirtualUser(users, "vee-ann", "v.test", ["other", ""]), null);
    assert.equal(findVirtualUser(users, "ann", "w.test", ["vee"]), null);
    assert.equal(findVirtualUser(new Map(), "ann", "v.test", ["vee"]), null);
  });
});
