import { open } from "node:fs/promises";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { parseTlsPolicy, type TlsPolicyTable } from "../../lib/tls/policy.ts";
import { isMissing } from "../base/errno.ts";

// control/tlspolicy and control/tlsca for qm remote. A file that cannot be
// used is not a reason to send with less protection than it asks for: the
// error is kept, and every delivery is deferred with it (core/io/remote/delivery.ts).

export const TLSCA_MAX = 1 << 20;
export const TLSPOLICY_MAX = 1 << 20;

export interface TlsControls {
  /** null: no file; a string: why it is unusable. */
  readonly policy: TlsPolicyTable | null | string;
  /** The trusted CAs: undefined means Node's default store; a string: why control/tlsca is unusable. */
  readonly ca: readonly string[] | undefined | string;
}

async function readSmall(path: string, max: number): Promise<string | null | { error: string }> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (err) {
    if (isMissing(err)) return null;
    return { error: (err as NodeJS.ErrnoException).code ?? "error" };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { error: "not a regular file" };
    const buf = Buffer.alloc(max + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got > max) return { error: `longer than ${max} bytes` };
    }
    return buf.subarray(0, got).toString("latin1");
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? "error" };
  } finally {
    await fh.close();
  }
}

export async function readTlsControls(home: string): Promise<TlsControls> {
  const p = await readSmall(join(home, "control", "tlspolicy"), TLSPOLICY_MAX);
  const c = await readSmall(join(home, "control", "tlsca"), TLSCA_MAX);
  let policy: TlsControls["policy"] = null;
  if (typeof p === "string") {
    const parsed = parseTlsPolicy(p);
    policy = typeof parsed === "string" ? `Unable to parse control/tlspolicy, ${parsed}` : parsed;
  } else if (p) policy = `Unable to read control/tlspolicy (${p.error})`;
  let ca: TlsControls["ca"];
  if (typeof c === "string") {
    ca = /-----BEGIN CERTIFICATE-----/.test(c) ? [...rootCertificates, c] : "control/tlsca holds no PEM certificate";
  } else if (c) ca = `Unable to read control/tlsca (${c.error})`;
  return { policy, ca };
}
