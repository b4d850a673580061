import { ok, temp, type Result } from "../../lib/base/result.ts";
import { parseArcSeal, parseDkimSign, signersFor, type SignEntry } from "../../lib/dkim/config.ts";
import { readControlLine, readControlList } from "../base/control.ts";
import { fromErrno } from "../base/errno.ts";
import { prependToMessage, spoolMessage, type RemoteMessage } from "../remote/message.ts";
import { keyPath, readSigningKey, type SigningKey } from "./keys.ts";

// Signing as mail leaves through qm remote / qm rspawn (qm-dkim(8)): the
// message is read once to hash it (a mess file on disk, so nothing is held
// whole), the DKIM-Signature fields are made, then the message goes out with
// them in front. With control/arcseal, a message that carries qm smtpd's
// Authentication-Results field is read once more to ARC-seal it
// (core/io/dkim/arc-seal.ts). Any failure is a temporary failure with its
// reason: mail for a listed domain never leaves unsigned, nor mail to seal
// unsealed.

export interface DkimSigner {
  /** The message to send: `msg` itself when no listed domain covers its From and nothing is sealed, else `msg` with the fields in front. */
  sign(msg: RemoteMessage): Promise<Result<RemoteMessage>>;
}

interface Plan {
  readonly entries: readonly SignEntry[];
  /** control/arcseal and the authserv-id (control/me) whose results it seals. */
  readonly seal: { readonly entry: SignEntry; readonly me: string } | null;
}

async function readPlan(home: string): Promise<Result<Plan | null>> {
  const [lines, arc] = await Promise.all([readControlList(home, "dkimsign"), readControlList(home, "arcseal")]);
  if (lines.kind !== "ok") return lines;
  if (arc.kind !== "ok") return arc;
  const entries = lines.value === null || lines.value.length === 0 ? ok([]) : parseDkimSign(lines.value);
  if (entries.kind !== "ok") return entries;
  if (arc.value === null || arc.value.length === 0) return entries.value.length === 0 ? ok(null) : ok({ entries: entries.value, seal: null });
  const entry = parseArcSeal(arc.value);
  if (entry.kind !== "ok") return entry;
  const me = await readControlLine(home, "me", null);
  if (me.kind !== "ok") return me;
  if (me.value === null) return temp("control/arcseal needs control/me (the authserv-id whose results are sealed)");
  return ok({ entries: entries.value, seal: { entry: entry.value, me: me.value } });
}

/** control/dkimsign and control/arcseal as a signer; null when both are absent or empty (mailauth is never loaded). */
export async function loadDkimSigner(home: string, clock: () => number = Date.now): Promise<Result<DkimSigner | null>> {
  const plan = await readPlan(home);
  if (plan.kind !== "ok") return plan;
  if (plan.value === null) return ok(null);
  const keys = new Map<string, SigningKey>(); // a key that failed is read again next time: the fix needs no restart
  const keyFor = (e: SignEntry): Result<SigningKey> => {
    const path = keyPath(home, e.keyfile);
    const had = keys.get(path);
    if (had) return ok(had);
    const got = readSigningKey(path);
    if (got.kind === "ok") keys.set(path, got.value);
    return got;
  };
  const p = plan.value;
  return ok({
    sign: (msg) => signWith(p, keyFor, msg, clock).catch((err: unknown) => fromErrno(err, "Unable to read the message to DKIM-sign it")),
  });
}

async function signWith(plan: Plan, keyFor: (e: SignEntry) => Result<SigningKey>, msg: RemoteMessage, clock: () => number): Promise<Result<RemoteMessage>> {
  const { scanMessage, signatureHeader } = await import("./sign.ts");
  const { arcSet, ourResults } = await import("./arc-seal.ts");
  const readable = msg.scan ? ok(msg) : await spoolMessage(msg); // a pipe (qm remote): to a file first
  if (readable.kind !== "ok") return readable;
  const listed = (domain: string | null) => (domain === null ? [] : signersFor(plan.entries, domain));
  const sealing = (headers: Parameters<typeof ourResults>[0]) => (plan.seal ? ourResults(headers, plan.seal.me) : null);
  const scan = await scanMessage(readable.value.scan!(), (domain, headers) => listed(domain).length > 0 || sealing(headers) !== null);
  if (scan.kind !== "ok") return scan;
  if (scan.value === null) return readable; // nothing covers its From, nothing to seal: sent as it is
  const fields: string[] = [];
  const results = sealing(scan.value.headers);
  if (plan.seal && results !== null) {
    const key = keyFor(plan.seal.entry);
    if (key.kind !== "ok") return key;
    const set = await arcSet(readable.value.scan!(), plan.seal.entry, key.value, results, new Date(clock()));
    if (set.kind !== "ok") return set;
    if (set.value !== null) fields.push(set.value);
  }
  for (const e of listed(scan.value.fromDomain)) {
    const key = keyFor(e);
    if (key.kind !== "ok") return key;
    const field = signatureHeader(scan.value, { domain: e.domain, selector: e.selector, key: key.value, time: Math.floor(clock() / 1000) });
    if (field.kind !== "ok") return field;
    fields.push(`${field.value}\r\n`);
  }
  return ok(prependToMessage(readable.value, Buffer.from(fields.join(""), "latin1")));
}
