import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer, type AddressInfo } from "node:net";
import { connect, TLSSocket, type SecureContext } from "node:tls";
import { watchCert } from "../../../core/io/smtpd/cert.ts";
import { tempDir } from "../../support/qm.ts";
import { makeCa } from "../../support/tls-ca.ts";

const NO_OPENSSL = spawnSync("openssl", ["version"], { timeout: 60_000 }).status === 0 ? false : "openssl is missing";

/** The subject CN a TLS client sees from a server using `ctx`. */
async function served(ctx: SecureContext): Promise<string> {
  const server = createServer((raw) => {
    const t = new TLSSocket(raw, { isServer: true, secureContext: ctx });
    t.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    return await new Promise<string>((resolve, reject) => {
      const c = connect({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, rejectUnauthorized: false }, () => {
        const cn = c.getPeerCertificate().subject.CN;
        c.destroy();
        resolve(String(cn));
      });
      c.on("error", reject);
    });
  } finally {
    server.close();
  }
}

describe("watchCert()", { skip: NO_OPENSSL, timeout: 120_000 }, () => {
  const ca = NO_OPENSSL ? null : makeCa();
  after(() => ca?.close());
  const home = tempDir();
  mkdirSync(join(home, "control"));
  const file = join(home, "control", "servercert.pem");
  /** As an ACME client installs a file: written aside, renamed over. */
  const install = (text: string) => {
    writeFileSync(`${file}.new`, text);
    renameSync(`${file}.new`, file);
  };

  it("no file: no STARTTLS; a file that appears is used from the next look on", async () => {
    const lines: string[] = [];
    const w = watchCert(home, (l) => lines.push(l));
    assert.equal(w.kind, "ok");
    if (w.kind !== "ok") return;
    assert.equal(w.value.current(), null);
    const one = ca!.leaf(["mx.test"], "one");
    install(one.key + one.cert);
    assert.equal(await served(w.value.current()!), "one");
    assert.deepEqual(lines, ["smtpd: control/servercert.pem changed: new sessions get the new certificate"]);
  });

  it("keeps the context while the file is unchanged, builds a new one when it changes, keeps the old for a bad one, and turns STARTTLS off when it goes", async () => {
    const one = ca!.leaf(["mx.test"], "one");
    install(one.key + one.cert);
    const lines: string[] = [];
    const w = watchCert(home, (l) => lines.push(l));
    if (w.kind !== "ok") return assert.fail(w.reason);
    const first = w.value.current();
    assert.equal(w.value.current(), first, "the same context while nothing changed");
    assert.equal(await served(first!), "one");
    const two = ca!.leaf(["mx.test"], "two");
    install(two.key + two.cert);
    const second = w.value.current();
    assert.notEqual(second, first);
    assert.equal(await served(second!), "two");
    for (const bad of ["", "garbage\n", two.cert, `${one.key}${two.cert}`]) {
      install(bad);
      assert.equal(w.value.current(), second, `the certificate in use stays for ${JSON.stringify(bad.slice(0, 20))}`);
      assert.match(lines.at(-1)!, /^smtpd: warning: control\/servercert\.pem is not a usable key and certificate: .*; the certificate in use stays$/);
    }
    const n = lines.length;
    assert.equal(w.value.current(), second);
    assert.equal(lines.length, n, "one warning per change, not one per session");
    rmSync(file);
    assert.equal(w.value.current(), null);
    assert.equal(lines.at(-1), "smtpd: control/servercert.pem is gone: STARTTLS is off");
  });

  it("refuses to start with an unusable file, as the listener always has", () => {
    install("garbage\n");
    const w = watchCert(home, () => {});
    assert.ok(w.kind === "temp");
    assert.match(w.reason, /^control\/servercert\.pem is not a usable key and certificate/);
  });
});
