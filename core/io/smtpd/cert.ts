import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createSecureContext, type SecureContext } from "node:tls";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { errText } from "../base/errno.ts";

/**
 * control/servercert.pem (key and certificate chain) as the TLS context of
 * STARTTLS. The listener reads it at start, as root; afterwards it looks at
 * the file's inode, size and times for every new session and builds a new
 * context when they changed, so a renewed certificate (ACME) is served from
 * the next session on without a restart. A new file that cannot be read (the
 * listener's account must be able to read it) or does not hold a usable key
 * and certificate leaves the one in use in place, with a warning; a file that
 * is gone turns STARTTLS off, as at start.
 */
export const CERT_FILE = "servercert.pem";

export function tlsContext(pem: Uint8Array | null): Result<SecureContext | null> {
  if (pem === null) return ok(null);
  try {
    return ok(createSecureContext({ key: Buffer.from(pem), cert: Buffer.from(pem), minVersion: "TLSv1.2" }));
  } catch (err) {
    return temp(`control/${CERT_FILE} is not a usable key and certificate: ${String(err)}`, "4.3.0");
  }
}

export interface CertWatch {
  /** The context for a session starting now (null: no STARTTLS); looks at the file first. */
  current(): SecureContext | null;
}

function stampOf(path: string): string {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st ? `${st.ino}/${st.size}/${st.mtimeMs}/${st.ctimeMs}` : "missing";
  } catch (err) {
    return `error ${errText(err)}`;
  }
}

/** Reads the certificate now (an unusable one is an error, as at start) and watches it from then on; `warn` gets one line per change seen. */
export function watchCert(home: string, warn: (line: string) => void): Result<CertWatch> {
  const path = join(home, "control", CERT_FILE);
  let seen = stampOf(path);
  const first = readPem(path);
  if (first.kind !== "ok") return first;
  const made = tlsContext(first.value);
  if (made.kind !== "ok") return made;
  let ctx = made.value;
  return ok({
    current() {
      const now = stampOf(path);
      if (now === seen) return ctx;
      seen = now;
      const pem = readPem(path);
      if (pem.kind !== "ok") {
        warn(`smtpd: warning: ${pem.reason}; ${ctx ? "the certificate in use stays" : "STARTTLS stays off"}`);
        return ctx;
      }
      const next = tlsContext(pem.value);
      if (next.kind !== "ok") {
        warn(`smtpd: warning: ${next.reason}; ${ctx ? "the certificate in use stays" : "STARTTLS stays off"}`);
        return ctx;
      }
      ctx = next.value;
      warn(ctx ? `smtpd: control/${CERT_FILE} changed: new sessions get the new certificate` : `smtpd: control/${CERT_FILE} is gone: STARTTLS is off`);
      return ctx;
    },
  });
}

function readPem(path: string): Result<Uint8Array | null> {
  try {
    return ok(new Uint8Array(readFileSync(path)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return ok(null);
    return temp(`Unable to read control/${CERT_FILE}: ${errText(err)}`, "4.3.0");
  }
}
