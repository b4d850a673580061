import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join } from "node:path";
import { openSyslog } from "../../../core/io/base/syslog.ts";
import { tempDir } from "../../support/qm.ts";

describe("openSyslog()", { timeout: 300_000 }, () => {
  it("gives the lines of a logger that died at once to the fallback, with the reason", async () => {
    const dir = tempDir();
    const socket = join(dir, "log");
    const server = createServer().listen(socket); // a socket exists: logger is started
    await new Promise((r) => server.once("listening", r));
    const got: string[] = [];
    const sys = openSyslog({ socket, tag: "qm", pid: 1, fallback: (l) => got.push(l), logger: "/bin/false" });
    sys.write("new msg 1", 6);
    sys.write("end msg 1", 6);
    for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(got[0]!, /^start: warning: logger for \S+ exited with code 1$/);
    assert.deepEqual(got.slice(1), ["new msg 1", "end msg 1"]);
    sys.write("next", 6); // within a second of the failure: straight to the fallback
    assert.equal(got.at(-1), "next");
    await sys.close();
    server.close();
  });

  it("writes to the fallback while there is no socket", async () => {
    const got: string[] = [];
    const sys = openSyslog({ socket: join(tempDir(), "none"), tag: "qm", pid: 1, fallback: (l) => got.push(l) });
    sys.write("a", 6);
    sys.write("b", 4);
    assert.match(got[0]!, /^start: warning: no syslog socket at \S+\/none; lines go to standard output$/);
    assert.deepEqual(got.slice(1), ["a", "b"]);
    await sys.close();
  });
});
