import { Readable } from "node:stream";
import arcMod from "mailauth/lib/arc/index.js";
import { fromBytes } from "../../lib/base/bytes.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { authservIds } from "../../lib/dkim/auth-results.ts";
import { createCrlfNormalizer } from "../../lib/dkim/line-ends.ts";
import type { SignEntry } from "../../lib/dkim/config.ts";
import type { ParsedHeader } from "mailauth/lib/dkim/message-parser.js";
import type { SigningKey } from "./keys.ts";

// ARC sealing (RFC 8617) as mail leaves through qm remote / qm rspawn, with
// control/arcseal's key: a message that carries the Authentication-Results
// field qm smtpd wrote (our authserv-id, control/me) arrived from outside and
// is leaving again (a .qmail forward, qm forward, an alias), so the next hop
// gets our results in an ARC set it can check: ARC-Authentication-Results
// (a copy of our field), ARC-Message-Signature and ARC-Seal, whose cv= is the
// arc= result smtpd found (none when the message had no chain). Mail without
// our field (written here, relayed for an AUTH client) is not sealed.

const FIELD = /^authentication-results[ \t]*:/i;

/** Our Authentication-Results value, unfolded ("mx.example.org; spf=pass ..."); null when the header has none. */
export function ourResults(headers: readonly ParsedHeader[], me: string): string | null {
  const id = me.toLowerCase().replace(/\.$/, "");
  for (const h of headers) {
    if (h.key !== "authentication-results") continue;
    const value = fromBytes(h.line).replace(FIELD, "");
    if (authservIds(value)[0] === id) return value.replace(/\r?\n[ \t]+/g, " ").replace(/[\r\n]/g, "").trim();
  }
  return null;
}

/** The chain status to seal with: our arc= result (pass or fail), else none. */
export function chainStatus(results: string): "none" | "pass" | "fail" {
  const m = /(?:^|;)\s*arc=(pass|fail)\b/i.exec(results);
  return m ? (m[1]!.toLowerCase() as "pass" | "fail") : "none";
}

async function* crlf(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const n = createCrlfNormalizer();
  for await (const c of chunks) yield n.push(c);
  yield n.end();
}

/**
 * The ARC set for a message (CR LF line ends, ending in CR LF), read once
 * more from `chunks`; null when the chain it carries already failed (RFC 8617
 * §5.1.2: a failed chain is not sealed again, the mail goes on unsealed). Any
 * other failure is temporary: mail is never sent with a half-made seal.
 */
export async function arcSet(chunks: AsyncIterable<Uint8Array>, entry: SignEntry, key: SigningKey, results: string, time: Date): Promise<Result<string | null>> {
  try {
    const sealed = await arcMod.createSeal(Readable.from(crlf(chunks)), {
      seal: {
        signingDomain: entry.domain,
        selector: entry.selector,
        privateKey: key.key.export({ format: "pem", type: "pkcs8" }).toString(),
        algorithm: `${key.type}-sha256`,
        cv: chainStatus(results),
        authResults: results,
        signTime: time,
      },
    });
    const err = sealed.errors?.[0]?.err;
    if (err?.code === "EARCCHAINFAILED") return ok(null);
    if (sealed.headers.length === 0) return temp(`Unable to ARC-seal with ${entry.selector}._domainkey.${entry.domain}: ${err?.message ?? "no seal made"}`);
    return ok(`${sealed.headers.join("\r\n")}\r\n`);
  } catch (err) {
    return temp(`Unable to ARC-seal with ${entry.selector}._domainkey.${entry.domain}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
