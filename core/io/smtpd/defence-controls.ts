import { ok, type Result } from "../../lib/base/result.ts";
import { parseDnsLists, type DnsList } from "../../lib/smtpd/dnsbl.ts";
import { parseGreylist, type GreylistConfig } from "../../lib/smtpd/greylist.ts";
import { parseRateLimits, type RateLimits } from "../../lib/smtpd/rate-limits.ts";
import { readControlLine, readControlList } from "../base/control.ts";

/**
 * The control files of the listener's defences (qm-smtpd(8): "DNS lists",
 * "Rate limits", "Greylisting", "Pregreet"): read with the other smtpd
 * controls (controls.ts), so a change is seen within a second, without a
 * restart. A malformed line is skipped and named in `warnings`, which the
 * session logs (once per process for each text); the rest stays in force.
 */
export interface Defences {
  readonly dnsbl: readonly DnsList[];
  readonly dnswl: readonly DnsList[];
  readonly rates: RateLimits;
  readonly greylist: GreylistConfig | null; // null: control/greylist is absent, greylisting is off
  readonly greetdelay: number; // ms to wait before the greeting; input before it is a pregreet
  readonly warnings: readonly string[];
}

export const DEFENCE_FILES = ["dnsbl", "dnswl", "ratelimits", "greylist", "greetdelay"] as const;

/** control/greetdelay is in seconds; longer than this is not a delay but a hang. */
export const MAX_GREETDELAY = 60;

export async function readDefences(home: string): Promise<Result<Defences>> {
  const [bl, wl, rl, gl] = await Promise.all(["dnsbl", "dnswl", "ratelimits", "greylist"].map((n) => readControlList(home, n)));
  const gd = await readControlLine(home, "greetdelay", null);
  for (const r of [bl!, wl!, rl!, gl!]) if (r.kind !== "ok") return r;
  if (gd.kind !== "ok") return gd;
  const lines = (r: Result<string[] | null>) => (r.kind === "ok" ? (r.value ?? []) : []);
  const dnsbl = parseDnsLists(lines(bl!), "dnsbl");
  const dnswl = parseDnsLists(lines(wl!), "dnswl");
  const rates = parseRateLimits(lines(rl!));
  const grey = gl!.kind === "ok" && gl!.value !== null ? parseGreylist(gl!.value) : null;
  const warnings = [...dnsbl.warnings, ...dnswl.warnings, ...rates.warnings, ...(grey?.warnings ?? [])];
  let delay = 0;
  if (gd.value !== null && !/^\d{1,6}$/.test(gd.value)) warnings.push(`control/greetdelay: "${gd.value.slice(0, 40).replace(/[^\x20-\x7e]/g, "?")}" is not a number of seconds; no delay`);
  else if (gd.value !== null) delay = Number(gd.value);
  if (delay > MAX_GREETDELAY) warnings.push(`control/greetdelay: ${delay} seconds is more than ${MAX_GREETDELAY}; ${MAX_GREETDELAY} used`);
  return ok({ dnsbl: dnsbl.lists, dnswl: dnswl.lists, rates: rates.limits, greylist: grey?.config ?? null, greetdelay: Math.min(delay, MAX_GREETDELAY) * 1000, warnings });
}
