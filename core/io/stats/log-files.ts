/**
 * The log files `qm stats` reads, line by line: plain or gzip'd (told by the
 * first two bytes, not the name), standard input for none or "-". Rotated
 * files are read oldest first, by the first time stamp in each (a name such
 * as mail.log.10 sorts before mail.log.2); a file without one keeps its place
 * after those with one. Lines are byte strings (latin1), as qm writes them.
 */
import { createReadStream, openSync, readSync, closeSync } from "node:fs";
import { createGunzip } from "node:zlib";
import type { Readable } from "node:stream";
import { parseLine } from "../../lib/stats/line.ts";
import { ok, perm, type Result } from "../../lib/base/result.ts";
import { errText, fromErrno, isMissing } from "../base/errno.ts";

/** How far into a file its first time stamp is looked for. */
const PEEK_LINES = 1000;

function isGzip(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

function open(path: string): Readable {
  if (path === "-") return createReadStream("", { fd: 0, autoClose: false });
  const raw = createReadStream(path);
  if (!isGzip(path)) return raw;
  const gz = createGunzip();
  raw.on("error", (e) => gz.destroy(e));
  return raw.pipe(gz);
}

/** Calls `onLine` for each line of `stream` (without its newline); `max` stops early when it answers false. */
async function eachLine(stream: Readable, onLine: (line: string) => boolean | void): Promise<void> {
  let carry = "";
  for await (const chunk of stream) {
    const text = carry + (chunk as Buffer).toString("latin1");
    let at = 0;
    for (let nl = text.indexOf("\n", at); nl >= 0; nl = text.indexOf("\n", at)) {
      if (onLine(text.slice(at, nl)) === false) return void stream.destroy();
      at = nl + 1;
    }
    carry = text.slice(at);
    if (carry.length > 1 << 20) { // a "line" of a megabyte is no log line: cut it
      onLine(carry);
      carry = "";
    }
  }
  if (carry !== "") onLine(carry);
}

async function firstStamp(path: string, year: number): Promise<number | null> {
  let found: number | null = null;
  let n = 0;
  await eachLine(open(path), (line) => {
    found = parseLine(line, year).ms;
    return found === null && ++n < PEEK_LINES;
  });
  return found;
}

/** Reads `paths` (stdin for none) in time order, each line to `onLine`. */
export async function readLogs(paths: readonly string[], year: number, onLine: (line: string) => void): Promise<Result<{ files: number }>> {
  const list = paths.length === 0 ? ["-"] : [...paths];
  let current = "";
  try {
    const keyed: { path: string; first: number | null; i: number }[] = [];
    for (const [i, path] of list.entries()) {
      current = path;
      keyed.push({ path, first: path === "-" ? null : await firstStamp(path, year), i });
    }
    keyed.sort((a, b) => (a.first ?? Infinity) - (b.first ?? Infinity) || a.i - b.i);
    for (const k of keyed) {
      current = k.path;
      await eachLine(open(k.path), onLine);
    }
    return ok({ files: keyed.length });
  } catch (err) {
    const name = current === "-" ? "standard input" : current;
    if ((err as { code?: unknown }).code?.toString().startsWith("Z_")) return perm(`${name}: damaged gzip data`, "5.3.0");
    if (isMissing(err)) return perm(`Unable to read ${name}: ${errText(err)}`, "5.3.0"); // a name on the command line: asking again will not help
    return fromErrno(err, `Unable to read ${name}`);
  }
}
