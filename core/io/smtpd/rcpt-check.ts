import { stat } from "node:fs/promises";
import { join } from "node:path";
import { dotQmailCandidates } from "../../lib/local/dot-qmail.ts";
import { rewrite, type RewriteRules } from "../../lib/send/rewrite.ts";
import { resolveLocal } from "../local/users.ts";

/**
 * Would local delivery certainly refuse this recipient? (issue 5 item 5;
 * docs/qmail.md §2.3, §3.2–3.3, §4.3.) Routed as qm send routes it; a local
 * address is looked up as the local spawner does (users/cdb, passwd, alias
 * user); when that lookup leaves an extension, one of the .qmail files
 * qmail-local would try must exist. Anything uncertain is "ok" (delivery
 * decides later) or "temp"; "unknown" only when the answer is sure.
 */
export type RcptVerdict = "ok" | "unknown" | "temp";

export async function checkRecipient(home: string, addr: string, rules: RewriteRules): Promise<RcptVerdict> {
  const routed = rewrite(addr, rules);
  if (routed.channel === "remote") return "ok";
  const local = routed.addr.slice(0, routed.addr.lastIndexOf("@"));
  if (local === "") return "ok"; // qmail: an empty local part is a silent success
  const who = await resolveLocal(home, local);
  if (who.kind !== "ok") return "temp";
  const { home: dir, dash, ext } = who.value;
  if (dash === "") return "ok"; // the whole local part is the user: .qmail or the default delivery
  if (ext.includes("/")) return "unknown"; // no probing below the home (CVE-2020-3812 was such a probe)
  for (const c of dotQmailCandidates(dash, ext)) {
    const found = await regularFile(join(dir, c.name));
    if (found !== "absent") return "ok"; // found, or unreadable to us: delivery decides
  }
  return "unknown";
}

async function regularFile(path: string): Promise<"yes" | "absent" | "unsure"> {
  try {
    return (await stat(path)).isFile() ? "yes" : "absent";
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === "ENOENT" || code === "ENOTDIR" || code === "ENAMETOOLONG" ? "absent" : "unsure";
  }
}
