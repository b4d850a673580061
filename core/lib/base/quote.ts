/**
 * qmail's quoting helpers (docs/qmail.md §10.4), the one copy every part uses:
 * envelopes on the SMTP wire, Return-Path lines, bounces, rewritten headers.
 */
const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+$/;

/** quote(local): as is when a plain dot-atom; else in `"` with `\r \n " \` escaped. Empty, 8-bit or badly dotted is quoted. */
export function quote(local: string): string {
  const plain = local !== "" && ATOM.test(local) && !local.startsWith(".") && !local.endsWith(".") && !local.includes("..");
  return plain ? local : `"${local.replace(/["\\\r\n]/g, (c) => `\\${c}`)}"`;
}

/** quote2(addr): the part before the last `@` quoted, `@domain` kept; "" stays "". */
export function quote2(addr: string): string {
  if (addr === "") return "";
  const at = addr.lastIndexOf("@");
  return at < 0 ? quote(addr) : `${quote(addr.slice(0, at))}${addr.slice(at)}`;
}
