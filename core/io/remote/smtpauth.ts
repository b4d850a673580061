import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fromBytes } from "../../lib/base/bytes.ts";
import { parseSmtpAuth, type AuthEntry } from "../../lib/remote/smtp-auth.ts";
import { isMissing } from "../base/errno.ts";

// control/smtpauth: the passwords qm remote gives its relays. Like ssh with
// a private key, qm refuses the file when anyone but its owner may touch it;
// the refusal is a temporary failure of every delivery through a relay, so
// the log says why and nothing is sent with credentials an admin did not
// mean to expose.

export type SmtpAuth =
  | { readonly kind: "ok"; readonly entries: readonly AuthEntry[] }
  | { readonly kind: "refused"; readonly reason: string };

const NONE: SmtpAuth = { kind: "ok", entries: [] };

/** The file's entries; none when it is missing; "refused" with the reason when it is open to others, unreadable or malformed. */
export function readSmtpAuth(home: string): SmtpAuth {
  const path = join(home, "control", "smtpauth");
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); // a FIFO must not hang the delivery
  } catch (err) {
    if (isMissing(err)) return NONE;
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    return { kind: "refused", reason: `Unable to read control/smtpauth (${code}): it must belong to the user qm remote runs as, mode 600` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: "refused", reason: "control/smtpauth is not a regular file" };
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
      return { kind: "refused", reason: `control/smtpauth is open to group or others (mode ${mode}): refusing to use it; chmod 600 control/smtpauth` };
    }
    const parsed = parseSmtpAuth(fromBytes(readFileSync(fd)));
    if (typeof parsed === "string") return { kind: "refused", reason: `Unable to parse control/smtpauth, ${parsed}` };
    return { kind: "ok", entries: parsed };
  } catch (err) {
    return { kind: "refused", reason: `Unable to read control/smtpauth (${(err as NodeJS.ErrnoException).code ?? "error"})` };
  } finally {
    closeSync(fd);
  }
}
