import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { lockFile } from "../../lib/queue/layout.ts";
import { formatCachedSts, parseCachedSts, stsDomainOk, type CachedSts } from "../../lib/tls/sts.ts";

// MTA-STS policies kept across restarts (RFC 8461 §5): one file a domain
// in queue/lock/sts/, a directory `qm init` makes for the user qm remote
// and qm rspawn run as (qmailr). A cache that cannot be written is not an
// error: the policy is then fetched again next time.

export function stsCacheDir(home: string): string {
  return lockFile(home, "sts");
}

export async function readStsCache(dir: string, domain: string): Promise<CachedSts | null> {
  if (!stsDomainOk(domain)) return null;
  try {
    const text = await readFile(join(dir, domain), "utf8");
    return text.length > 200_000 ? null : parseCachedSts(text);
  } catch {
    return null;
  }
}

export async function writeStsCache(dir: string, domain: string, id: string, expires: number, policyText: string): Promise<boolean> {
  if (!stsDomainOk(domain)) return false;
  const path = join(dir, domain);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, formatCachedSts(id, expires, policyText), { mode: 0o600 });
    await rename(tmp, path);
    return true;
  } catch {
    return false;
  }
}
