/**
 * The maildrop file (docs/maildrop.md): what a local user who may not write
 * the queue leaves in queue/maildrop/ for `qm send` to take in.
 *
 *   header    "qm maildrop 1\n" (an older file starts with the envelope's F)
 *   message   the bytes as given
 *   envelope  qmail-queue's fd-1 form: F sender \0 (T recip \0)* \0
 *   trailer   "\0end <message length> <envelope length> <CRC-32C> <token>\n",
 *             lengths and CRC in fixed-width lower-case hex (16, 8, 8 digits)
 *
 * The file is created under its final name <ms>.<pid>.<token> and never
 * renamed. The CRC covers header, message and envelope; the token (16 hex
 * digits, random) is also the end of the name, so a trailer read from
 * another file's old blocks cannot pass for this file's.
 */
import { fromBytes, toBytes } from "../base/bytes.ts";

export const HEADER = toBytes("qm maildrop 1\n");
export const TRAILER_LENGTH = 57;
/** The largest envelope intake reads from a maildrop file (the file is a local user's, so hostile). */
export const MAX_ENVELOPE = 16 << 20;
/** An incomplete file is left alone this long after its last write, whatever the pid in its name says. */
export const QUIET_SEC = 15 * 60;
/**
 * The owner-execute bit: set by the writer only after its fsync, when it is
 * about to acknowledge. A whole file without it may still be under its
 * writer's fsync (whose failure the writer would report), so intake leaves
 * it while that writer lives. Postfix marks a finished queue file the same way.
 */
export const READY_BIT = 0o100;

const NAME = /^(\d{1,15})\.(\d{1,10})\.([0-9a-f]{16})$/;
const TRAILER = /^\0end ([0-9a-f]{16}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{16})\n$/;

export interface DropName {
  readonly ms: number; // the writer's clock when it created the file
  readonly pid: number;
  readonly token: string;
}

export interface Trailer {
  readonly messageLength: number;
  readonly envelopeLength: number;
  readonly crc: number;
  readonly token: string;
}

export function formatName(n: DropName): string {
  return `${n.ms}.${n.pid}.${n.token}`;
}

/** The parts of a name a writer made, or null for any other name. */
export function parseName(name: string): DropName | null {
  const m = NAME.exec(name);
  if (!m) return null;
  return { ms: Number(m[1]), pid: Number(m[2]), token: m[3]! };
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");

export function formatTrailer(t: Trailer): Uint8Array {
  return toBytes(`\0end ${hex(t.messageLength, 16)} ${hex(t.envelopeLength, 8)} ${hex(t.crc >>> 0, 8)} ${t.token}\n`);
}

/** The trailer in the last TRAILER_LENGTH bytes of a file, or null when they are not one. */
export function parseTrailer(bytes: Uint8Array): Trailer | null {
  if (bytes.length !== TRAILER_LENGTH) return null;
  const m = TRAILER.exec(fromBytes(bytes));
  if (!m) return null;
  const messageLength = Number.parseInt(m[1]!, 16);
  if (!Number.isSafeInteger(messageLength)) return null;
  return { messageLength, envelopeLength: Number.parseInt(m[2]!, 16), crc: Number.parseInt(m[3]!, 16), token: m[4]! };
}

/** True when `head` (the file's first bytes) starts with the header. */
export function hasHeader(head: Uint8Array): boolean {
  return head.length >= HEADER.length && HEADER.every((b, i) => head[i] === b);
}

/** The size a file with this trailer has when it is whole. */
export function wholeSize(t: Trailer): number {
  return HEADER.length + t.messageLength + t.envelopeLength + TRAILER_LENGTH;
}

/** What is known of an incomplete file's writer. */
export interface WriterFacts {
  readonly nowSec: number;
  readonly mtimeSec: number; // the file's last write
  readonly bootSec: number | null; // when the system started, if known
  /** running: some process has the pid; newer: it started after the file was made; absent: none has it */
  readonly pid: "running" | "newer" | "absent";
}

/**
 * Why an incomplete file's writer is gone, or null while it may still be
 * writing. A file last written before the system started has lost its
 * writer; otherwise the file must have been quiet for QUIET_SEC (a writer
 * in another pid namespace looks absent) and its pid free or reused.
 */
export function writerGone(name: DropName, f: WriterFacts): string | null {
  if (f.bootSec !== null && f.mtimeSec < f.bootSec - 1) return "last written before the system started";
  if (f.nowSec - f.mtimeSec < QUIET_SEC) return null;
  if (f.pid === "absent") return `its writer, pid ${name.pid}, has exited`;
  if (f.pid === "newer") return `its writer, pid ${name.pid}, has exited (the pid now names a newer process)`;
  return null;
}
