/**
 * The words between `qm qctl` and a running `qm send` over the control socket
 * (qm-qctl(8)): one request line, one reply line, both JSON. The request is
 * qctl's own argv, so the queue manager checks it with the same parser
 * (parseQctlArgs) as the command line; the reply carries qctl's exit code,
 * its standard output and its one line for standard error.
 */
import { ok, perm, temp, type Result } from "../base/result.ts";
import { parseQctlArgs, type QctlCommand } from "./qctl.ts";

/** A request line longer than this is refused (100,000 ids fit). */
export const MAX_REQUEST = 4 << 20;
/** A reply longer than this is cut off, and counts as a temporary failure. */
export const MAX_REPLY = 32 << 20;

export interface Reply {
  readonly code: 0 | 100 | 111;
  readonly out: string;
  /** The reason of a failure (Fail.reason: no status code), "" on success. */
  readonly err: string;
}

/** The reply's outcome as qctl's own: its exit code and one line for standard error. */
export function replyResult(r: Reply): Result<string> {
  if (r.code === 0) return ok(r.out);
  return r.code === 100 ? perm(r.err || "Refused by the queue manager", "5.3.0") : temp(r.err || "The queue manager failed");
}

export function encodeRequest(argv: readonly string[]): string {
  return `${JSON.stringify({ argv })}\n`;
}

/** A request line (without its newline) to a checked command; anything odd is permanent. */
export function decodeRequest(line: string): Result<QctlCommand> {
  if (line.length > MAX_REQUEST) return perm("Request too long", "5.3.0");
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return perm("Request is not JSON", "5.3.0");
  }
  const argv = (v as { argv?: unknown } | null)?.argv;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string")) return perm("Request has no argv", "5.3.0");
  return parseQctlArgs(argv as string[]);
}

export function encodeReply(r: Reply): string {
  return `${JSON.stringify(r)}\n`;
}

/** A reply line; one that does not parse is a temporary failure (when in doubt, temp). */
export function decodeReply(line: string): Result<Reply> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return temp("The queue manager's reply is not JSON");
  }
  const r = v as { code?: unknown; out?: unknown; err?: unknown } | null;
  if (!r || (r.code !== 0 && r.code !== 100 && r.code !== 111) || typeof r.out !== "string" || typeof r.err !== "string") {
    return temp("The queue manager's reply is malformed");
  }
  return ok({ code: r.code, out: r.out, err: r.err });
}
