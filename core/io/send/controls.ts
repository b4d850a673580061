/**
 * The control files `qm send` reads at start-up and again, all of them, on
 * SIGHUP (docs/qmail.md §10.1, qm-send(8)).
 */
import type { RewriteRules } from "../../lib/send/rewrite.ts";
import type { SendControls } from "../../lib/send/state.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { BOUNCE_MAX_BYTES } from "../../lib/send/bounce.ts";

/** control/delaywarning's default: 4 hours (Postfix's delay_warning_time, when set, is often this). */
const DELAY_WARNING = 14400;
import { capConcurrency, DEFAULT_CONCURRENCY, QUEUE_LIFETIME } from "../../lib/send/schedule.ts";
import { readSrs, SRS_FILES, srsReverser } from "../base/srs.ts";
import { readControlLine, readControlList, readControlMap, readControlNumber } from "../base/control.ts";

export type { SendControls } from "../../lib/send/state.ts";

/** Every file readSendControls() reads: what a reload's log line may name. */
export const SEND_FILES = ["me", "locals", "virtualdomains", "percenthack", "envnoathost", "bouncefrom", "bouncehost", "doublebounceto", "doublebouncehost", "concurrencylocal", "concurrencyremote", "concurrencyrecipient", "queuelifetime", "bouncemaxbytes", "bouncestyle", "delaywarning", ...SRS_FILES] as const;

export async function readRules(home: string, me: string): Promise<Result<RewriteRules>> {
  const locals = await readControlList(home, "locals");
  const vd = await readControlMap(home, "virtualdomains");
  const ph = await readControlList(home, "percenthack");
  const noat = await readControlLine(home, "envnoathost", me);
  const srs = await readSrs(home, me);
  for (const r of [locals, vd, ph, noat, srs]) if (r.kind !== "ok") return r;
  if (locals.kind !== "ok" || vd.kind !== "ok" || ph.kind !== "ok" || noat.kind !== "ok" || srs.kind !== "ok") return temp("unreachable");
  const lower = (xs: string[]) => new Set(xs.map((x) => x.toLowerCase()));
  return ok({
    locals: lower(locals.value ?? [me]),
    virtualdomains: vd.value,
    percenthack: lower(ph.value ?? []),
    envnoathost: noat.value ?? "envnoathost",
    srs: srsReverser(srs.value),
  });
}

export async function readSendControls(home: string): Promise<Result<SendControls>> {
  const me = await readControlLine(home, "me", null);
  if (me.kind !== "ok") return me;
  if (me.value === null) return temp("control/me is missing");
  const host = me.value;
  const rules = await readRules(home, host);
  if (rules.kind !== "ok") return rules;
  const line = (name: string, def: string) => readControlLine(home, name, def);
  const parts = [await line("bouncefrom", "MAILER-DAEMON"), await line("bouncehost", host), await line("doublebounceto", "postmaster"), await line("doublebouncehost", host), await line("bouncestyle", "dsn")];
  const nums = [await readControlNumber(home, "concurrencylocal", DEFAULT_CONCURRENCY.local), await readControlNumber(home, "concurrencyremote", DEFAULT_CONCURRENCY.remote), await readControlNumber(home, "queuelifetime", QUEUE_LIFETIME), await readControlNumber(home, "bouncemaxbytes", BOUNCE_MAX_BYTES), await readControlNumber(home, "concurrencyrecipient", -1), await readControlNumber(home, "delaywarning", DELAY_WARNING)];
  for (const r of [...parts, ...nums]) if (r.kind !== "ok") return r;
  const v = <T>(r: Result<T>) => (r as { value: T }).value;
  const [bouncefrom, bouncehost, doublebounceto, doublebouncehost, style] = parts.map((r) => v(r) ?? "");
  if (style !== "dsn" && style !== "qsbmf") return temp(`control/bouncestyle must be dsn or qsbmf, not ${JSON.stringify(style!.slice(0, 40))}`);
  const [local, remote, lifetime, maxbytes, perRcpt, delaywarning] = nums.map((r) => v(r));
  return ok({
    me: host,
    rules: rules.value,
    bounce: { bouncefrom: bouncefrom!, bouncehost: bouncehost!, doublebounceto: doublebounceto!, doublebouncehost: doublebouncehost!, maxbytes: Math.max(0, maxbytes!), style },
    concurrency: { local: capConcurrency(local!), remote: capConcurrency(remote!) },
    // one recipient (a hanging .qmail program) may hold at most half the local slots unless control/concurrencyrecipient says otherwise
    concurrencyRecipient: perRcpt! >= 0 ? perRcpt! : Math.max(1, Math.ceil(capConcurrency(local!) / 2)),
    lifetime: lifetime!,
    delaywarning: Math.max(0, delaywarning!),
  });
}
