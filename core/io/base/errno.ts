import { temp, perm, type Fail } from "../../lib/base/result.ts";

// errno codes that will not fix themselves (qmail's error_temp.c, inverted):
// everything not listed here is temporary.
const PERMANENT = new Set(["ENAMETOOLONG", "ENOTDIR", "ELOOP", "EISDIR", "EINVAL"]);

/** An fs/net error to a temp/perm Fail. Unknown errors are temporary. */
export function fromErrno(err: unknown, what: string): Fail {
  const code = (err as { code?: unknown } | null)?.code;
  const name = typeof code === "string" ? code : "unknown error";
  const reason = `${what}: ${errText(err)}`;
  return PERMANENT.has(name) ? perm(reason, "5.3.0") : temp(reason, name === "ENOSPC" || name === "EDQUOT" ? "4.3.1" : "4.3.0");
}

/** "no space left on device" rather than Node's long message. */
export function errText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  const msg = typeof e?.message === "string" ? e.message : String(err);
  const m = /^[A-Z]+: ([^,]+)/.exec(msg);
  return m?.[1] ?? (code || msg);
}

/** True for ENOENT, the one open error that means "absent". */
export function isMissing(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "ENOENT";
}
