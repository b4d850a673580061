import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkDane } from "../../../core/io/tls/dane.ts";
import type { Tlsa } from "../../../core/lib/tls/dane.ts";
import { tempDir } from "../../support/qm.ts";
import { makeCa, type TestCa } from "../../support/tls-ca.ts";

// checkDane() on real certificates from a test CA made with openssl.

const der = (pem: string) => new Uint8Array(new X509Certificate(pem).raw);
const sha = (alg: string, b: Uint8Array) => createHash(alg).update(b).digest("hex");
const spki = (pem: string) => new Uint8Array(new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" }));
const r = (usage: number, selector: number, matchingType: number, data: string): Tlsa => ({ usage, selector, matchingType, data });


describe("checkDane()", { timeout: 60_000 }, () => {
  let ca: TestCa | null = null;
  let dir = "";
  before(() => {
    ca = makeCa();
    dir = tempDir("qm-dane-io-");
  });
  after(() => {
    ca?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const why = () => (ca ? "" : "openssl not installed");

  it("passes a DANE-EE match on the leaf by key or certificate (SHA-256, SHA-512, exact), whatever its names", (t) => {
    if (why()) return t.skip(why());
    const leaf = ca!.leaf(["other.test"]);
    for (const rec of [r(3, 1, 1, sha("sha256", spki(leaf.cert))), r(3, 0, 1, sha("sha256", der(leaf.cert))), r(3, 1, 2, sha("sha512", spki(leaf.cert))),
      r(3, 0, 0, Buffer.from(der(leaf.cert)).toString("hex"))]) {
      assert.equal(checkDane([der(leaf.cert)], [rec], "mx.x.test", Date.now()), null);
    }
  });
  it("refuses a chain that matches no record (tlsa-invalid), and one with no or unreadable certificates", (t) => {
    if (why()) return t.skip(why());
    const leaf = ca!.leaf(["mx.x.test"]);
    assert.deepEqual(checkDane([der(leaf.cert)], [r(3, 1, 1, "00".repeat(32))], "mx.x.test", Date.now()), { reason: "its certificate matches none of the TLSA records", type: "tlsa-invalid" });
    assert.equal(checkDane([], [r(3, 1, 1, "00".repeat(32))], "mx.x.test", Date.now())?.type, "validation-failure");
    assert.equal(checkDane([new Uint8Array([0x30, 0x03, 1, 2, 3])], [r(3, 1, 1, "00".repeat(32))], "mx.x.test", Date.now())?.type, "validation-failure");
  });
  it("passes a DANE-TA match above the leaf when it signed the leaf, the dates hold and the leaf names the host", (t) => {
    if (why()) return t.skip(why());
    const leaf = ca!.leaf(["mx.x.test"]);
    const ta = [r(2, 0, 1, sha("sha256", der(ca!.cert)))];
    assert.equal(checkDane([der(leaf.cert), der(ca!.cert)], ta, "mx.x.test", Date.now()), null);
    assert.equal(checkDane([der(leaf.cert), der(ca!.cert)], [r(2, 1, 1, sha("sha256", spki(ca!.cert)))], "MX.x.test.", Date.now()), null);
    assert.deepEqual(checkDane([der(leaf.cert), der(ca!.cert)], ta, "mx.y.test", Date.now()), { reason: "its certificate does not name mx.y.test", type: "certificate-host-mismatch" });
    assert.equal(checkDane([der(leaf.cert), der(ca!.cert)], ta, "mx.x.test", Date.now() + 3 * 86_400_000)?.type, "certificate-expired");
    assert.equal(checkDane([der(leaf.cert)], ta, "mx.x.test", Date.now())?.type, "tlsa-invalid", "the anchor must be sent");
  });
  it("refuses a DANE-TA anchor that did not sign the leaf", (t) => {
    if (why()) return t.skip(why());
    const other = makeCa()!;
    try {
      const leaf = ca!.leaf(["mx.x.test"]);
      const ta = [r(2, 0, 1, sha("sha256", der(other.cert)))];
      assert.deepEqual(checkDane([der(leaf.cert), der(other.cert)], ta, "mx.x.test", Date.now()), { reason: "its certificate chain does not lead to the trust anchor of its TLSA record", type: "tlsa-invalid" });
    } finally {
      other.close();
    }
  });
  it("refuses a DANE-TA anchor that is not a CA", (t) => {
    if (why()) return t.skip(why());
    // a leaf signed by another leaf's key: openssl x509 -req with a non-CA issuer
    const signer = ca!.leaf(["signer.test"]);
    writeFileSync(join(dir, "s.pem"), signer.cert);
    writeFileSync(join(dir, "s.key"), signer.key);
    writeFileSync(join(dir, "ext"), "subjectAltName=DNS:mx.x.test\n");
    execFileSync("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=mx.x.test", "-keyout", join(dir, "l.key"), "-out", join(dir, "l.csr")], { stdio: "ignore", timeout: 30_000 });
    execFileSync("openssl", ["x509", "-req", "-in", join(dir, "l.csr"), "-CA", join(dir, "s.pem"), "-CAkey", join(dir, "s.key"), "-CAcreateserial", "-days", "1", "-extfile", join(dir, "ext"), "-out", join(dir, "l.pem")], { stdio: "ignore", timeout: 30_000 });
    const leaf = readFileSync(join(dir, "l.pem"), "utf8");
    assert.equal(checkDane([der(leaf), der(signer.cert)], [r(2, 0, 1, sha("sha256", der(signer.cert)))], "mx.x.test", Date.now())?.type, "tlsa-invalid");
  });
});
