/**
 * qm keeps addresses and header text as byte strings: one char per byte
 * (latin1), so 8-bit and UTF-8 input survives every round trip unchanged,
 * exactly as qmail passes bytes through. These convert at the edges.
 */
const ASCII = /^[\x00-\x7f]*$/;
const ENCODER = new TextEncoder();

/** Bytes to a byte string, one char per byte. */
export function fromBytes(b: Uint8Array): string {
  let s = "";
  // apply, not spread: spreading a typed array walks an iterator, ~10x slower in a cold process
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode.apply(null, b.subarray(i, i + 8192) as unknown as number[]);
  return s;
}

/** A string as the runtime decoded it (argv, environment) back to its UTF-8 bytes, as a byte string. */
export function utf8ByteString(s: string): string {
  return ASCII.test(s) ? s : fromBytes(ENCODER.encode(s));
}

/** A byte string back to bytes; a char above 0xff (never made by fromBytes) becomes its UTF-8 form. */
export function toBytes(s: string): Uint8Array {
  if (ASCII.test(s)) return ENCODER.encode(s); // the common case, without a loop per char in JavaScript
  let wide = false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) { wide = true; break; }
  if (wide) return toBytes(fromBytes(ENCODER.encode(s)));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });
/** True when a byte string is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates). */
export function isUtf8(s: string): boolean {
  try {
    STRICT_UTF8.decode(toBytes(s));
    return true;
  } catch {
    return false;
  }
}
