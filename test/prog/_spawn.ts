// Raw spawn-protocol helpers for the lspawn/rspawn tests: commands and reports
// as bytes on the wire, without the codec under test (core/lib/send-spawn.ts).

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
