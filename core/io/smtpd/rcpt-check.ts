import { access, stat } from "node:fs/promises";
import { constants } from "node:fs";
import { join, resolve } from "node:path";
import { readControlLine, readControlNumber } from "../base/control.ts";
import { overQuota } from "../../lib/local/maildirsize.ts";
import { readMaildirSize } from "../local/quota.ts";
import { ok } from "../../lib/base/result.ts";
import { dotQmailCandidates } from "../../lib/local/dot-qmail.ts";
import { rewrite, type RewriteRules } from "../../lib/send/rewrite.ts";
import { resolveLocal } from "../local/users.ts";
import { catchAllVerdict } from "./catch-all.ts";

/**
 * Would local delivery certainly refuse this recipient? (issue 5 item 5;
 * docs/qmail.md §2.3, §3.2–3.3, §4.3.) Routed as qm send routes it; a local
 * address is looked up as the local spawner does (virtualusers, users/cdb,
 * passwd, alias user); when that lookup leaves an extension, one of the
 * .qmail files qmail-local would try must exist; a default-delivery Maildir
 * already at its Maildir++ quota is "full" (issue 19, §4.5); a fastforward
 * catch-all .qmail takes only what the aliases cdb holds (catch-all.ts). Anything
 * uncertain is "ok" (delivery decides later) or "temp"; "unknown" only when
 * the answer is sure.
 */
export type RcptVerdict = "ok" | "unknown" | "temp" | "full" | "full-temp";

export async function checkRecipient(home: string, addr: string, rules: RewriteRules): Promise<RcptVerdict> {
  // an SRS address of ours: forged or expired is unknown; a good one is checked as its original (rewrite() then finds it foreign to SRS at once)
  const back = rules.srs?.(addr);
  if (back?.kind === "bad") return "unknown";
  const routed = rewrite(back?.kind === "ok" ? back.addr : addr, rules);
  if (routed.channel === "remote") return "ok";
  const at = routed.addr.lastIndexOf("@");
  const local = routed.addr.slice(0, at);
  if (local === "") return "ok"; // qmail: an empty local part is a silent success
  // control/virtualusers we may not read (mode 600, smtpd as qmaild): no local answer is sure
  if (!(await readableOrAbsent(join(home, "control", "virtualusers")))) return "ok";
  const who = await resolveLocal(home, local, { domain: routed.addr.slice(at + 1) });
  if (who.kind !== "ok") return "temp";
  const { home: dir, dash, ext } = who.value;
  if (dash === "") return defaultMailboxFull(home, dir, who.value.mailbox); // the whole local part is the user: .qmail or the default delivery
  if (ext.includes("/")) return "unknown"; // no probing below the home (CVE-2020-3812 was such a probe)
  for (const c of dotQmailCandidates(dash, ext)) {
    const found = await regularFile(join(dir, c.name));
    if (found === "unsure") return "ok"; // unreadable to us: delivery decides
    if (found === "yes") return catchAllVerdict(home, join(dir, c.name), routed.addr, ext, c.defaultTail); // a fastforward catch-all takes only its aliases
  }
  return "unknown";
}

/**
 * A user delivered by the default delivery (no .qmail, or an empty one)
 * whose defaultdelivery is one Maildir that is already at its Maildir++
 * quota: "full" (552 5.2.2; "full-temp", 452 4.2.2, under control/quotawarn).
 * Anything this process cannot read or tell is "ok": delivery decides.
 */
async function defaultMailboxFull(qmhome: string, userHome: string, mailbox: string | undefined): Promise<RcptVerdict> {
  try {
    const dq = await stat(join(userHome, ".qmail")).catch((err: { code?: string }) => (err.code === "ENOENT" ? null : undefined));
    if (dq === undefined || (dq !== null && dq.size > 0)) return "ok";
    const dd = mailbox === undefined ? await readControlLine(qmhome, "defaultdelivery", "./Maildir/") : ok(mailbox);
    const line = dd.kind === "ok" ? (dd.value ?? "./Maildir/") : null;
    if (line === null || !/^[./]/.test(line) || !line.endsWith("/") || line.includes("\n")) return "ok";
    const q = readMaildirSize(resolve(userHome, line), { recalc: false }); // never write a user's file from here
    if (q.kind !== "ok" || q.value === null || !overQuota(q.value, 1)) return "ok";
    const warn = await readControlNumber(qmhome, "quotawarn", 0);
    return warn.kind === "ok" && warn.value === 0 ? "full" : "full-temp";
  } catch {
    return "ok";
  }
}

async function readableOrAbsent(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "ENOENT";
  }
}

async function regularFile(path: string): Promise<"yes" | "absent" | "unsure"> {
  try {
    return (await stat(path)).isFile() ? "yes" : "absent";
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === "ENOENT" || code === "ENOTDIR" || code === "ENAMETOOLONG" ? "absent" : "unsure";
  }
}
