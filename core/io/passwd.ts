import { readFile } from "node:fs/promises";
import { fromBytes } from "../lib/bytes.ts";

/** One /etc/passwd entry. */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

/** Parses passwd(5) text; malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || f[0] === "" || !/^\d+$/.test(f[2] ?? "") || !/^\d+$/.test(f[3] ?? "")) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! });
  }
  return out;
}

/** The named account from the password file ($QM_PASSWD for tests, else /etc/passwd), or null. */
export async function getpwnam(name: string, file = process.env.QM_PASSWD || "/etc/passwd"): Promise<PasswdEntry | null> {
  try {
    return parsePasswd(fromBytes(await readFile(file))).find((e) => e.name === name) ?? null;
  } catch {
    return null;
  }
}
