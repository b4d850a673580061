import { createHmac } from "node:crypto";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { srsForward, srsReverse, type SrsKeys, type SrsReversal } from "../../lib/base/srs.ts";
import { readControlLine, readControlList, readControlMap } from "./control.ts";

// control/srs (qm-control(5)): one secret a line, the first signs, all are
// accepted (so a secret can be rotated: put the new one first, drop the old
// one after SRS_MAX_AGE_DAYS). control/srsdomain names the domain the
// addresses are made at (default control/me); it must be one this host
// receives mail for (rcpthosts) so bounces come back.

export const SRS_FILES = ["srs", "srsdomain"] as const;
/** A secret shorter than this is refused: it would be guessed. */
export const SRS_MIN_SECRET = 16;

/** The SRS keys, or null when control/srs is absent or empty (SRS off). */
export async function readSrs(home: string, me: string): Promise<Result<SrsKeys | null>> {
  const secrets = await readControlList(home, "srs");
  if (secrets.kind !== "ok") return secrets;
  if (secrets.value === null || secrets.value.length === 0) return ok(null);
  const short = secrets.value.find((s) => s.length < SRS_MIN_SECRET);
  if (short !== undefined) return temp(`control/srs: a secret is shorter than ${SRS_MIN_SECRET} characters`, "4.3.0");
  const domain = await readControlLine(home, "srsdomain", me);
  if (domain.kind !== "ok") return domain;
  const macs = secrets.value.map((secret) => (data: string) => createHmac("sha1", secret).update(data, "latin1").digest("base64"));
  return ok({ domain: (domain.value ?? me).toLowerCase(), macs });
}

export const today = (now = Date.now()): number => Math.floor(now / 86_400_000);

/**
 * The envelope sender for a forward made here (.qmail `&` lines, qm forward,
 * qm fastforward): SRS-rewritten when control/srs is set and the sender is at
 * a domain that is not ours (control/locals, control/virtualdomains).
 */
export async function forwardSender(home: string, sender: string): Promise<Result<string>> {
  const me = await readControlLine(home, "me", null);
  if (me.kind !== "ok") return me;
  const keys = await readSrs(home, me.value ?? "");
  if (keys.kind !== "ok" || keys.value === null) return keys.kind === "ok" ? ok(sender) : keys;
  if (me.value === null) return temp("control/me is missing: SRS needs a domain", "4.3.0");
  const locals = await readControlList(home, "locals");
  const vd = await readControlMap(home, "virtualdomains");
  if (locals.kind !== "ok") return locals;
  if (vd.kind !== "ok") return vd;
  const own = new Set((locals.value ?? [me.value]).map((d) => d.toLowerCase()));
  const ours = (d: string) => own.has(d) || vd.value.has(d);
  return ok(srsForward(sender, keys.value, today(), ours));
}

/** A reverser for routing: an SRS address of ours → the original, else null. */
export function srsReverser(keys: SrsKeys | null): ((addr: string) => SrsReversal | null) | undefined {
  if (keys === null) return undefined;
  return (addr) => srsReverse(addr, keys, today());
}
