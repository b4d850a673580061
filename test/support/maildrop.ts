// Reading and making maildrop files in tests, through the format's own code (core/lib/queue/maildrop.ts).
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { encodeEnvelope, type Envelope } from "../../core/lib/queue/envelope.ts";
import { crc32c } from "../../core/lib/queue/crc32c.ts";
import { formatName, formatTrailer, HEADER, parseTrailer, TRAILER_LENGTH } from "../../core/lib/queue/maildrop.ts";

/** A maildrop file's parts as byte strings; throws unless it is whole (header, lengths, checksum, token). */
export function readDrop(path: string): { message: string; envelope: string } {
  const b = readFileSync(path);
  const t = parseTrailer(b.subarray(b.length - TRAILER_LENGTH));
  if (!t || b.subarray(0, HEADER.length).toString("latin1") !== "qm maildrop 1\n") throw new Error(`${path}: not a whole maildrop file`);
  const body = b.subarray(0, b.length - TRAILER_LENGTH);
  if (crc32c(0, body) !== t.crc || !basename(path).endsWith(t.token)) throw new Error(`${path}: checksum or token mismatch`);
  if (HEADER.length + t.messageLength + t.envelopeLength !== body.length) throw new Error(`${path}: lengths do not add up`);
  return {
    message: body.subarray(HEADER.length, HEADER.length + t.messageLength).toString("latin1"),
    envelope: body.subarray(HEADER.length + t.messageLength).toString("latin1"),
  };
}

/** The bytes and name of a whole maildrop file, as the writer would make them (pid and time chosen by the test). */
export function makeDrop(message: string | Uint8Array, env: Envelope | Uint8Array, pid = process.pid, ms = Date.now()): { name: string; bytes: Buffer } {
  const token = [...crypto.getRandomValues(new Uint8Array(8))].map((x) => x.toString(16).padStart(2, "0")).join("");
  const msg = typeof message === "string" ? Buffer.from(message, "latin1") : Buffer.from(message);
  const envBytes = env instanceof Uint8Array ? env : encodeEnvelope(env);
  const body = Buffer.concat([HEADER, msg, envBytes]);
  const trailer = formatTrailer({ messageLength: msg.length, envelopeLength: envBytes.length, crc: crc32c(0, body), token });
  return { name: formatName({ ms, pid, token }), bytes: Buffer.concat([body, trailer]) };
}
