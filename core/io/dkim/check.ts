import tools from "mailauth/lib/tools.js";
import { createPublicKey } from "node:crypto";
import { ok, perm, temp, type Result } from "../../lib/base/result.ts";
import { recordName } from "../../lib/dkim/record.ts";
import type { DnsOptions } from "../remote/dns.ts";
import { publicKeyBase64, type SigningKey } from "./keys.ts";
import { mailauthResolver } from "./resolver.ts";

// `qm dkim check`: the selector's record read as a verifier reads it
// (mailauth's key-record parser, asking qm's resolver), then compared with
// the private key: ok, perm (absent, malformed, another key) or temp (DNS).

export async function checkPublished(dns: DnsOptions, domain: string, selector: string, key: SigningKey): Promise<Result<string>> {
  const name = recordName(selector, domain);
  let found: Awaited<ReturnType<typeof tools.getPublicKey>>;
  try {
    found = await tools.getPublicKey("DKIM", name, 1024, mailauthResolver(dns));
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    const why = typeof e.message === "string" ? e.message : String(err);
    if (e.code === "ESERVFAIL" || e.code === "ETIMEOUT") return temp(`${name}: DNS lookup failed: ${why}`);
    if (e.code === "ENOTFOUND" || e.code === "ENODATA") return perm(`${name}: no key record published`);
    return perm(`${name}: the published record is not a usable key: ${why}`);
  }
  const published = publicKeyBase64(createPublicKey(found.publicKey));
  if (published !== publicKeyBase64(key.key)) return perm(`${name}: the published key is not the key in the key file`);
  const size = key.type === "rsa" ? ` ${key.key.asymmetricKeyDetails?.modulusLength ?? "?"} bits` : "";
  return ok(`${name}: ok (${key.type}${size}${found.testing ? ", t=y testing" : ""})`);
}
