import { closeSync, createReadStream, fstatSync, mkdtempSync, openSync, read, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ok, type Result } from "../../lib/base/result.ts";
import { fromErrno } from "../base/errno.ts";

// The message a remote delivery sends: read once, streamed, never held whole
// in memory. Its size, when known, goes into MAIL FROM's SIZE=.

export interface RemoteMessage {
  readonly size?: number;
  readonly chunks: () => AsyncIterable<Uint8Array>;
  /** Releases the file descriptor (when the message was never read). */
  readonly close: () => Promise<void>;
  /** A read of the whole message that leaves it to be sent afterwards (DKIM's first pass); absent for a pipe. */
  readonly scan?: () => AsyncIterable<Uint8Array>;
}

const HIGH_WATER = 64 * 1024;

/**
 * A mess file by path (rspawn); refused unless it is a regular file. Opened
 * synchronously (a local file: a thread-pool round trip costs more than the
 * call), and a message up to HIGH_WATER is read whole at once, so the body
 * follows the 354 in the same turn of the event loop.
 */
export async function openMessageFile(path: string): Promise<Result<RemoteMessage>> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    return fromErrno(err, "Unable to open message file");
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      return fromErrno({ code: "EISDIR", message: "not a regular file" }, "Unable to open message file");
    }
    let open = true;
    const close = (): void => {
      if (open) closeSync(fd);
      open = false;
    };
    return ok({
      size: st.size,
      chunks: () => {
        if (st.size > HIGH_WATER) {
          open = false;
          return createReadStream("", { fd, highWaterMark: HIGH_WATER, autoClose: true });
        }
        const whole = readWhole(fd, st.size);
        close();
        return (async function* () {
          yield whole;
        })();
      },
      close: async () => close(),
      scan: () => readAt(fd),
    });
  } catch (err) {
    closeSync(fd);
    return fromErrno(err, "Unable to open message file");
  }
}

/** The whole small file; a file that grew is read to its end, one that shrank is cut where it ends. */
function readWhole(fd: number, size: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < 1 + HIGH_WATER; i++) {
    const buf = new Uint8Array(Math.max(size - total, 4096));
    const n = readSync(fd, buf, 0, buf.length, total);
    if (n === 0) break;
    chunks.push(buf.subarray(0, n));
    total += n;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** fd 0 (qm remote): a regular file gives its size; a pipe is streamed as it comes. */
export function stdinMessage(): RemoteMessage {
  let size: number | undefined;
  try {
    const st = fstatSync(0);
    if (st.isFile()) size = st.size;
  } catch {
    size = undefined;
  }
  return {
    size,
    ...(size !== undefined ? { scan: () => readAt(0) } : {}),
    chunks: () => (size !== undefined ? createReadStream("", { fd: 0, highWaterMark: HIGH_WATER, autoClose: false }) : process.stdin),
    close: async () => {},
  };
}

// --- DKIM (core/io/dkim/signer.ts): a first pass, then the signatures in front ---

const SCAN_CHUNK = 256 * 1024;

/** The file from offset 0 with positional reads, which leave the descriptor where it was. */
async function* readAt(fd: number): AsyncGenerator<Uint8Array> {
  for (let pos = 0; ; ) {
    const buf = Buffer.allocUnsafe(SCAN_CHUNK); // fresh each time: the reader may keep chunks (the header)
    const n = await new Promise<number>((resolve, reject) => read(fd, buf, 0, SCAN_CHUNK, pos, (err, got) => (err ? reject(err) : resolve(got))));
    if (n === 0) return;
    pos += n;
    yield buf.subarray(0, n);
  }
}

/** `msg` with `head` (complete header fields) sent before it. */
export function prependToMessage(msg: RemoteMessage, head: Uint8Array): RemoteMessage {
  return {
    size: msg.size === undefined ? undefined : msg.size + head.length,
    chunks: async function* () {
      yield head;
      yield* msg.chunks();
    },
    close: msg.close,
    scan: msg.scan,
  };
}

/** A message from a pipe, copied to an unlinked temporary file so that it can be read twice. */
export async function spoolMessage(msg: RemoteMessage): Promise<Result<RemoteMessage>> {
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), "qm-remote-"));
  } catch (err) {
    return fromErrno(err, "Unable to make a temporary file for DKIM signing");
  }
  const path = join(dir, "message");
  try {
    const fd = openSync(path, "wx", 0o600);
    try {
      for await (const chunk of msg.chunks()) for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
    } finally {
      closeSync(fd);
    }
    return await openMessageFile(path); // open before the unlink below: the descriptor keeps it
  } catch (err) {
    return fromErrno(err, "Unable to copy the message for DKIM signing");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
