import { fromBytes, toBytes } from "../base/bytes.ts";
import { ok, temp, perm, type Result } from "../base/result.ts";

/** An envelope as qmail-queue(8) reads it on fd 1. */
export interface Envelope {
  readonly sender: string; // "" is the null sender <>
  readonly recipients: readonly string[];
}

/** qmail-queue ADDR: an address field (with its NUL) longer than this is exit 11. */
export const MAX_ADDR = 1003;

const NUL = 0;
const F = 0x46;
const T = 0x54;

/** qmail-queue(8) fd 1: F sender \0 (T recip \0)* \0 */
export function encodeEnvelope(env: Envelope): Uint8Array {
  const fields = [`F${env.sender}`, ...env.recipients.map((r) => `T${r}`)];
  return toBytes(`${fields.join("\0")}\0\0`);
}

/**
 * Decodes fd-1 bytes the way qmail-queue reads them: 91 for a bad letter,
 * 11 for an address of MAX_ADDR bytes or more without its NUL, 54 for an
 * envelope cut short. Addresses are byte strings (bytes.ts).
 */
export function decodeEnvelope(bytes: Uint8Array): Result<Envelope> {
  if (bytes.length === 0) return temp("Envelope ended early", "4.3.0");
  if (bytes[0] !== F) return temp("Envelope format error", "4.3.0");
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (i >= bytes.length) return temp("Envelope ended early", "4.3.0");
    if (fields.length > 0 && bytes[i] === NUL) break;
    const letter = bytes[i];
    if (fields.length > 0 && letter !== T) return temp("Envelope format error", "4.3.0");
    const end = bytes.indexOf(NUL, i + 1);
    const limit = Math.min(bytes.length, i + 1 + MAX_ADDR);
    if (end < 0 || end >= limit) {
      if (bytes.length - (i + 1) >= MAX_ADDR) return perm("Address too long", "5.1.3");
      return temp("Envelope ended early", "4.3.0");
    }
    fields.push(fromBytes(bytes.subarray(i + 1, end)));
    i = end + 1;
  }
  if (i !== bytes.length - 1) return temp("Envelope format error", "4.3.0");
  const [sender = "", ...recipients] = fields;
  return ok({ sender, recipients });
}
