import { ok, type Result } from "../../lib/base/result.ts";
import { parseDkimSign, signersFor, type SignEntry } from "../../lib/dkim/config.ts";
import { readControlList } from "../base/control.ts";
import { fromErrno } from "../base/errno.ts";
import { prependToMessage, spoolMessage, type RemoteMessage } from "../remote/message.ts";
import { keyPath, readSigningKey, type SigningKey } from "./keys.ts";

// Signing as mail leaves through qm remote / qm rspawn (qm-dkim(8)): the
// message is read once to hash it (a mess file on disk, so nothing is held
// whole), the DKIM-Signature fields are made, then the message goes out with
// them in front. Any failure is a temporary failure with its reason: mail
// for a listed domain never leaves unsigned.

export interface DkimSigner {
  /** The message to send: `msg` itself when no listed domain covers its From, else `msg` with signatures in front. */
  sign(msg: RemoteMessage): Promise<Result<RemoteMessage>>;
}

/** control/dkimsign as a signer; null when the file is absent or empty (nothing is signed, mailauth is never loaded). */
export async function loadDkimSigner(home: string, clock: () => number = Date.now): Promise<Result<DkimSigner | null>> {
  const lines = await readControlList(home, "dkimsign");
  if (lines.kind !== "ok") return lines;
  if (lines.value === null || lines.value.length === 0) return ok(null);
  const entries = parseDkimSign(lines.value);
  if (entries.kind !== "ok") return entries;
  const keys = new Map<string, SigningKey>(); // a key that failed is read again next time: the fix needs no restart
  const keyFor = (e: SignEntry): Result<SigningKey> => {
    const path = keyPath(home, e.keyfile);
    const had = keys.get(path);
    if (had) return ok(had);
    const got = readSigningKey(path);
    if (got.kind === "ok") keys.set(path, got.value);
    return got;
  };
  return ok({
    sign: (msg) => signWith(entries.value, keyFor, msg, clock).catch((err: unknown) => fromErrno(err, "Unable to read the message to DKIM-sign it")),
  });
}

async function signWith(entries: readonly SignEntry[], keyFor: (e: SignEntry) => Result<SigningKey>, msg: RemoteMessage, clock: () => number): Promise<Result<RemoteMessage>> {
  const { scanMessage, signatureHeader } = await import("./sign.ts");
  const readable = msg.scan ? ok(msg) : await spoolMessage(msg); // a pipe (qm remote): to a file first
  if (readable.kind !== "ok") return readable;
  const listed = (domain: string | null) => (domain === null ? [] : signersFor(entries, domain));
  const scan = await scanMessage(readable.value.scan!(), (domain) => listed(domain).length > 0);
  if (scan.kind !== "ok") return scan;
  if (scan.value === null) return readable; // no listed domain covers its From: sent as it is
  const signers = listed(scan.value.fromDomain);
  const fields: string[] = [];
  for (const e of signers) {
    const key = keyFor(e);
    if (key.kind !== "ok") return key;
    const field = signatureHeader(scan.value, { domain: e.domain, selector: e.selector, key: key.value, time: Math.floor(clock() / 1000) });
    if (field.kind !== "ok") return field;
    fields.push(`${field.value}\r\n`);
  }
  return ok(prependToMessage(readable.value, Buffer.from(fields.join(""), "latin1")));
}
