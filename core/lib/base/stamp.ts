/**
 * Time stamps at the start of a log line, for `qm start --log`: ISO 8601 in
 * UTC with milliseconds ("2026-12-06T14:50:33.123Z "), or multilog's TAI64N
 * label ("@4000000069344b4307558c00 ", cr.yp.to/libtai/tai64.html: 2^62 + 10
 * + the Unix seconds, then nanoseconds, in hex).
 */
export type StampMode = "iso" | "tai64n" | "none";

export const STAMP_MODES: readonly StampMode[] = ["iso", "tai64n", "none"];

/** The label for `ms` (milliseconds since 1970), a space included; "" for "none". */
export function stamp(mode: StampMode, ms: number): string {
  if (mode === "none") return "";
  if (mode === "iso") return `${new Date(ms).toISOString()} `;
  const sec = Math.floor(ms / 1000);
  const nano = Math.round((ms - sec * 1000) * 1e6);
  const label = (BigInt(sec) + (1n << 62n) + 10n).toString(16).padStart(16, "0");
  return `@${label}${nano.toString(16).padStart(8, "0")} `;
}

/** The syslog severity a qm log line asks for (RFC 5424 numbers), from its class word. */
export function severity(line: string): number {
  const body = line.replace(/^[a-z-]+: (?=[a-z]+: )/, ""); // "smtpd: warning: ..." -> "warning: ..."
  if (body.startsWith("alert: ")) return 1;
  if (body.startsWith("fatal: ") || body.startsWith("error: ")) return 3;
  if (body.startsWith("warning: ")) return 4;
  return 6;
}
