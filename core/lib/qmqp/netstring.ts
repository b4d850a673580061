/**
 * Netstrings (docs/qmail.md §12): `<decimal length>:<bytes>,`. The length has no
 * sign, no spaces and no leading zeros ("0" alone is the empty string), and
 * at most MAX_DIGITS digits, so a hostile peer cannot make us count forever.
 */

const MAX_DIGITS = 10; // 9999999999 bytes: more than any limit a caller sets

const enc = new TextEncoder();

/** One netstring around `payload`. */
export function encodeNetstring(payload: Uint8Array): Uint8Array {
  const head = enc.encode(`${payload.length}:`);
  const out = new Uint8Array(head.length + payload.length + 1);
  out.set(head, 0);
  out.set(payload, head.length);
  out[out.length - 1] = 0x2c;
  return out;
}

/** Several byte arrays laid end to end. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export type HeaderStep =
  | { readonly kind: "more" } // need further bytes
  | { readonly kind: "done"; readonly length: number; readonly used: number } // `used` bytes of this input belong to the header
  | { readonly kind: "bad"; readonly reason: string };

/**
 * An incremental reader for the `<length>:` part: feed it bytes as they
 * arrive; it stops at the colon and says how many bytes it took. Lengths
 * above `max` are refused ("too long") so the caller can answer before
 * reading the body.
 */
export class HeaderReader {
  #digits = "";
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }

  feed(bytes: Uint8Array): HeaderStep {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] ?? 0;
      if (b === 0x3a) {
        if (this.#digits === "") return { kind: "bad", reason: "empty length" };
        const length = Number(this.#digits);
        if (length > this.#max) return { kind: "bad", reason: "too long" };
        return { kind: "done", length, used: i + 1 };
      }
      if (b < 0x30 || b > 0x39) return { kind: "bad", reason: "not a digit" };
      if (this.#digits === "0") return { kind: "bad", reason: "leading zero" };
      if (this.#digits.length >= MAX_DIGITS) return { kind: "bad", reason: "too many digits" };
      this.#digits += String.fromCharCode(b);
    }
    return { kind: "more" };
  }
}

export type Decoded =
  | { readonly kind: "ok"; readonly value: Uint8Array; readonly rest: Uint8Array }
  | { readonly kind: "more" }
  | { readonly kind: "bad"; readonly reason: string };

/** The first netstring of `bytes` (payload and what follows it), "more" when cut short. */
export function decodeNetstring(bytes: Uint8Array, max: number): Decoded {
  const head = new HeaderReader(max).feed(bytes);
  if (head.kind !== "done") return head;
  const end = head.used + head.length;
  if (bytes.length <= end) return { kind: "more" };
  if (bytes[end] !== 0x2c) return { kind: "bad", reason: "missing comma" };
  return { kind: "ok", value: bytes.subarray(head.used, end), rest: bytes.subarray(end + 1) };
}

/** A whole buffer that must be nothing but netstrings (at most `maxCount`, each at most `maxEach`). */
export function decodeAll(bytes: Uint8Array, maxEach: number, maxCount: number): { kind: "ok"; values: Uint8Array[] } | { kind: "bad"; reason: string } {
  const values: Uint8Array[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    if (values.length >= maxCount) return { kind: "bad", reason: "too many netstrings" };
    const d = decodeNetstring(rest, maxEach);
    if (d.kind === "more") return { kind: "bad", reason: "truncated" };
    if (d.kind === "bad") return d;
    values.push(d.value);
    rest = d.rest;
  }
  return { kind: "ok", values };
}
