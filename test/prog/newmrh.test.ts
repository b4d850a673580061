import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runQm } from "../support/qm.ts";
import { control, smtpdHome } from "../support/smtpd.ts";

const codes = (out: Buffer) => out.toString("latin1").split("\r\n").filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 3));
const session = (home: string, input: string) => runQm(["smtpd"], { input: Buffer.from(input, "latin1"), env: { QMHOME: home, TCPREMOTEIP: "192.0.2.9" } });

describe("qm newmrh", { timeout: 300_000 }, () => {
  it("builds morercpthosts.cdb, which smtpd then accepts domains from", async () => {
    const home = await smtpdHome();
    control(home, "morercpthosts", "# more\nMore.Example\n.sub.more.example\n");
    const r = await runQm(["newmrh"], { env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.ok(existsSync(join(home, "control", "morercpthosts.cdb")));
    control(home, "rcptcheck", "0\n");
    const s = await session(home, "HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@more.example>\r\nRCPT TO:<a@x.sub.more.example>\r\nRCPT TO:<a@other.example>\r\n");
    assert.deepEqual(codes(s.stdout), ["220", "250", "250", "250", "250", "553"]);
  });
  it("fails with 100 when control/morercpthosts is missing", async () => {
    const home = await smtpdHome();
    const r = await runQm(["newmrh"], { env: { QMHOME: home } });
    assert.equal(r.code, 100);
    assert.match(r.stderr.toString(), /morercpthosts does not exist/);
  });
});

