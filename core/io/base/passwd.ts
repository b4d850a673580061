import { readFile } from "node:fs/promises";
import { fromBytes } from "../../lib/base/bytes.ts";
import { ok, type Result } from "../../lib/base/result.ts";
import { fromErrno } from "./errno.ts";

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

/** The password file's path: $QM_PASSWD (tests name accounts of their own), else /etc/passwd. */
export function passwdPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.QM_PASSWD || "/etc/passwd";
}

/** Accounts by name (the first line for a name wins); a missing file is an empty table, other errors temp. */
export async function readPasswd(path: string): Promise<Result<Map<string, PasswdEntry>>> {
  try {
    const map = new Map<string, PasswdEntry>();
    for (const e of parsePasswd(fromBytes(await readFile(path)))) if (!map.has(e.name)) map.set(e.name, e);
    return ok(map);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return ok(new Map());
    return fromErrno(err, `Unable to read ${path}`);
  }
}
