/**
 * IPv4 and IPv6 addresses as bytes (4 or 16), for access rules and for
 * SMTP address literals (`[1.2.3.4]`, `[IPv6:2001:db8::1]`). Strict: no
 * leading zeros beyond one digit in IPv4, no zone ids, at most one "::".
 */

/** "192.0.2.1" -> 4 bytes, or null. */
export function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? "";
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return null;
    out[i] = Number(p);
  }
  return out;
}

/** "2001:db8::1", "::ffff:192.0.2.1" -> 16 bytes, or null. */
export function parseIPv6(s: string): Uint8Array | null {
  if (s.length > 45 || s.length < 2) return null;
  let text = s;
  let tail: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    tail = parseIPv4(text.slice(lastColon + 1));
    if (!tail) return null;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string): string[] | null => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0] ?? "");
  const rest = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (!head || !rest) return null;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(missing).fill("0"), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i] ?? "";
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 255;
  }
  if (tail) out.set(tail, 12);
  return out;
}

/** Either family; an IPv4-mapped IPv6 address ("::ffff:a.b.c.d") comes back as its 4 IPv4 bytes. */
export function parseIP(s: string): Uint8Array | null {
  const v4 = parseIPv4(s);
  if (v4) return v4;
  const v6 = parseIPv6(s);
  if (!v6) return null;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 255 && v6[11] === 255;
  return mapped ? v6.slice(12) : v6;
}

/** True when the first `bits` bits of `ip` equal those of `net` (same family). */
export function inPrefix(ip: Uint8Array, net: Uint8Array, bits: number): boolean {
  if (ip.length !== net.length || bits < 0 || bits > ip.length * 8) return false;
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (ip[i] !== net[i]) return false;
  const rem = bits & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return ((ip[whole] ?? 0) & mask) === ((net[whole] ?? 0) & mask);
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run as "::"). */
export function formatIP(ip: Uint8Array): string {
  if (ip.length === 4) return Array.from(ip).join(".");
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((ip[i] ?? 0) << 8) | (ip[i + 1] ?? 0));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = g.map((v) => v.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}
