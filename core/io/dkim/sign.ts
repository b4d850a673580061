import { createHash, sign } from "node:crypto";
import messageParser, { type ParsedHeader } from "mailauth/lib/dkim/message-parser.js";
import bodyHash from "mailauth/lib/dkim/body/index.js";
import relaxed from "mailauth/lib/dkim/header/relaxed.js";
import tools from "mailauth/lib/tools.js";
import { fromBytes } from "../../lib/base/bytes.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { createCrlfNormalizer } from "../../lib/dkim/line-ends.ts";
import { fromDomain } from "../../lib/dkim/from.ts";
import type { SigningKey } from "./keys.ts";

// DKIM signatures with mailauth's canonicalisation (RFC 6376 relaxed/relaxed,
// sha256; RSA and Ed25519, RFC 8463). The only file that loads mailauth for
// signing, and only when control/dkimsign lists something (core/io/dkim/signer.ts).
//
// One pass over the message, as the SMTP client will send it (every line
// ending as CR LF): the header is kept (up to MAX_HEADER), the body only
// hashed. Then one signature header a key, From signed once more than it
// occurs (oversigned) so no From can be added after signing.

/** Header bytes held while signing; larger is a temporary failure, never an unsigned send. */
export const MAX_HEADER = 1024 * 1024;

export interface ScanResult {
  readonly headers: readonly ParsedHeader[];
  readonly bodyHash: string;
  /** The From domain, lowercased; null when there is no From or it names no domain. */
  readonly fromDomain: string | null;
}

class Pass extends messageParser.MessageParser {
  headers: ParsedHeader[] = [];
  hasher: ReturnType<typeof bodyHash.dkimBody> | null = null;
  hash = "";
  override async messageHeaders(h: { parsed: ParsedHeader[] }): Promise<void> {
    this.headers = h.parsed;
    this.hasher = bodyHash.dkimBody("relaxed", "sha256", false);
  }
  override async nextChunk(chunk: Uint8Array): Promise<void> {
    this.hasher?.update(chunk);
  }
  override async finalChunk(): Promise<void> {
    this.hash = this.hasher?.digest("base64") ?? "";
  }
}

function fromOf(headers: readonly ParsedHeader[]): string | null {
  const from = headers.find((h) => h.key === "from");
  return from ? fromDomain(fromBytes(from.line).replace(/^[^:]*:/, "")) : null;
}

/**
 * The first pass: header fields, the relaxed sha256 body hash and the From
 * domain. Once the header is read, `wanted` sees the From domain: false
 * ends the pass there (null), so unsigned mail costs one header read.
 */
export async function scanMessage(chunks: AsyncIterable<Uint8Array>, wanted: (fromDomain: string | null, headers: readonly ParsedHeader[]) => boolean = () => true): Promise<Result<ScanResult | null>> {
  const pass = new Pass();
  const crlf = createCrlfNormalizer();
  let decided = false;
  for await (const chunk of chunks) {
    await pass.writeAsync(crlf.push(chunk));
    if (pass.headerBytes > MAX_HEADER) return temp(`Message header over ${MAX_HEADER} bytes: unable to DKIM-sign it`);
    if (!decided && pass.state === "body") {
      if (!wanted(fromOf(pass.headers), pass.headers)) return ok(null);
      decided = true;
    }
  }
  await pass.writeAsync(crlf.end());
  await pass.finish();
  const domain = fromOf(pass.headers);
  if (!decided && !wanted(domain, pass.headers)) return ok(null);
  return ok({ headers: pass.headers, bodyHash: pass.hash, fromDomain: domain });
}

const SIGNED = new Set(tools.defaultDKIMFieldNames.toLowerCase().split(":"));

export interface SignRequest {
  readonly domain: string;
  readonly selector: string;
  readonly key: SigningKey;
  /** Seconds since the epoch (t=). */
  readonly time: number;
}

/** One DKIM-Signature header field (folded, CR LF line ends, no final CR LF). */
export function signatureHeader(scan: ScanResult, req: SignRequest): Result<string> {
  // the last instance of a field first (RFC 6376 §5.4.2), every instance signed
  const fields = scan.headers.filter((h) => h.key !== null && SIGNED.has(h.key)).reverse();
  const names = [...fields.map((h) => h.casedKey ?? ""), "From"];
  const algorithm = `${req.key.type}-sha256`;
  try {
    const { canonicalizedHeader, dkimHeaderOpts } = relaxed.relaxedHeaders("DKIM", { keys: names.join(": "), headers: fields }, {
      signingDomain: req.domain,
      selector: req.selector,
      algorithm,
      canonicalization: "relaxed/relaxed",
      bodyHash: scan.bodyHash,
      timestamp: req.time,
      expiration: false,
    });
    const signature = req.key.type === "rsa"
      ? sign("sha256", canonicalizedHeader, req.key.key)
      : sign(null, createHash("sha256").update(canonicalizedHeader).digest(), req.key.key); // RFC 8463 §3
    return ok(tools.formatSignatureHeaderLine("DKIM", { ...dkimHeaderOpts, b: signature.toString("base64") }, true));
  } catch (err) {
    return temp(`Unable to DKIM-sign with ${req.selector}._domainkey.${req.domain}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
