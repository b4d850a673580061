import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fromBytes } from "../../lib/base/bytes.ts";
import { ok, type Result } from "../../lib/base/result.ts";
import { fromErrno, isMissing } from "./errno.ts";

// control/* readers with qmail's rules (docs/qmail.md §10.2): ENOENT means the
// default; any other open error is temporary. Read synchronously, as qmail
// does: a control file is a few bytes on a local disk, and a thread-pool round
// trip per file cost a short-lived qm inject a millisecond at start-up.

async function readRaw(home: string, name: string): Promise<Result<string | null>> {
  const path = join(home, "control", name);
  try {
    // most control files are absent: asking first spares an exception (dear in a cold process) per file
    if (statSync(path, { throwIfNoEntry: false }) === undefined) return ok(null);
    return ok(fromBytes(readFileSync(path)));
  } catch (err) {
    if (isMissing(err)) return ok(null);
    return fromErrno(err, `Unable to read control/${name}`);
  }
}

/** First line, trailing space/tab/CR stripped; `def` when the file is missing or the line empty. */
export async function readControlLine(home: string, name: string, def: string | null): Promise<Result<string | null>> {
  const raw = await readRaw(home, name);
  if (raw.kind !== "ok" || raw.value === null) return raw.kind === "ok" ? ok(def) : raw;
  const line = (raw.value.split("\n")[0] ?? "").replace(/[ \t\r]+$/, "");
  return ok(line === "" ? def : line);
}

/** An unsigned decimal prefix of the first line; `def` when missing or not a number. */
export async function readControlNumber(home: string, name: string, def: number): Promise<Result<number>> {
  const line = await readControlLine(home, name, null);
  if (line.kind !== "ok") return line;
  const m = /^\d+/.exec(line.value ?? "");
  return ok(m ? Number(m[0]) : def);
}

/** Every line with trailing whitespace stripped, skipping empty and `#` lines; null when the file is missing. */
export async function readControlList(home: string, name: string): Promise<Result<string[] | null>> {
  const raw = await readRaw(home, name);
  if (raw.kind !== "ok") return raw;
  return ok(raw.value === null ? null : parseList(raw.value));
}

export function parseList(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/[ \t\r]+$/, ""))
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** `key:value` lines, keys lowercased; the later line wins (constmap). Lines without ":" are ignored. */
export async function readControlMap(home: string, name: string): Promise<Result<Map<string, string>>> {
  const list = await readControlList(home, name);
  if (list.kind !== "ok") return list;
  const map = new Map<string, string>();
  for (const line of list.value ?? []) {
    const colon = line.indexOf(":");
    if (colon >= 0) map.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1));
  }
  return ok(map);
}
