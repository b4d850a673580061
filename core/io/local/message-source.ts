import { fstatSync, readSync } from "node:fs";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { fromErrno } from "../base/errno.ts";

/**
 * The message a local delivery reads, once per instruction (qmail-local
 * rewinds its stdin for every line): bytes in memory (worker) or a seekable
 * file descriptor read from offset 0 each time (qm local, stdin = mess file).
 */
export interface MessageSource {
  chunks(): AsyncIterable<Uint8Array>;
}
const CHUNK = 64 * 1024;
/** A message on a non-seekable stdin is held in memory up to this size. */
const MAX_PIPED = 64 * 1024 * 1024;

export function bytesSource(bytes: Uint8Array): MessageSource {
  return {
    async *chunks() {
      for (let i = 0; i < bytes.length; i += CHUNK) yield bytes.subarray(i, i + CHUNK);
    },
  };
}

/** fd as a rewindable source: a regular file is read by position; anything else is read once into memory. */
export async function fdSource(fd: number): Promise<Result<MessageSource>> {
  try {
    if (fstatSync(fd).isFile()) return ok(positionalSource(fd));
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(CHUNK);
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (err) {
        if ((err as { code?: string }).code === "EAGAIN") { await new Promise((r) => setTimeout(r, 5)); continue; }
        throw err;
      }
      if (n === 0) break;
      total += n;
      if (total > MAX_PIPED) return temp("Message on a pipe is too large: give qm local a file", "4.3.0");
      parts.push(buf.subarray(0, n));
    }
    return ok(bytesSource(Buffer.concat(parts)));
  } catch (err) {
    return fromErrno(err, "Unable to read message");
  }
}

function positionalSource(fd: number): MessageSource {
  return {
    async *chunks() {
      for (let pos = 0; ; ) {
        const buf = new Uint8Array(CHUNK);
        const n = readSync(fd, buf, 0, CHUNK, pos);
        if (n === 0) return;
        pos += n;
        yield buf.subarray(0, n);
      }
    },
  };
}

/** True when a header line (before the first empty line) equals `line` ("...\n") byte for byte. */
export async function headerHasLine(src: MessageSource, line: string): Promise<boolean> {
  let cur = "";
  let bounded = false; // the current line grew past `line`: it cannot match
  for await (const chunk of src.chunks()) {
    for (const c of chunk) {
      if (c === 0x0a) {
        if (!bounded && cur === "") return false;
        if (!bounded && `${cur}\n` === line) return true;
        cur = "";
        bounded = false;
        continue;
      }
      if (bounded) continue;
      cur += String.fromCharCode(c);
      if (cur.length > line.length) bounded = true;
    }
  }
  return false;
}
