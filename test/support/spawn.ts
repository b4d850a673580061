// Raw spawn-protocol helpers for the lspawn/rspawn tests: commands and reports
// as bytes on the wire, without the codec under test (core/lib/send/spawn-wire.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./qm.ts";

/** Commands (`slot\0path\0sender\0recipient\0` each) from their fields, as written. */
export function spawnInput(cmds: readonly (readonly string[])[]): string {
  return cmds.map((c) => c.map((f) => `${f}\0`).join("")).join("");
}

/** Reports (`slot\0<letter>text\0`) by their slot text. */
export function spawnReports(out: Buffer): Map<string, string> {
  const f = out.toString("latin1").split("\0");
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < f.length; i += 2) m.set(f[i]!, f[i + 1]!);
  return m;
}

/**
 * A minimal home for qm rspawn: control/me, smtproutes to a peer on
 * 127.0.0.1:port, and one message file in queue/mess/3/ per body given
 * (named 26, 49, ...); returns the home and the message paths in order.
 */
export function rspawnHome(port: number, bodies: readonly string[]): { h: string; messes: string[] } {
  const h = join(tempDir(), "qm");
  mkdirSync(join(h, "control"), { recursive: true });
  mkdirSync(join(h, "queue", "lock"), { recursive: true });
  mkdirSync(join(h, "queue", "mess", "3"), { recursive: true });
  writeFileSync(join(h, "control", "me"), "client.test\n");
  writeFileSync(join(h, "control", "smtproutes"), `:127.0.0.1:${port}\n`);
  const messes = bodies.map((body, i) => {
    const mess = join(h, "queue", "mess", "3", String(26 + 23 * i));
    writeFileSync(mess, body);
    return mess;
  });
  return { h, messes };
}
