import { statSync } from "node:fs";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { errText } from "./errno.ts";
import { passwdPath, readPasswd } from "./passwd.ts";
import { uid } from "./sys.ts";

/**
 * As root, become the owner of `home` (gid from the password entry of `user`
 * when it has that uid, else the home's group) before anything else is
 * touched. Never uid 0. Not root: nothing changes (the home check later
 * insists the home is ours).
 */
export async function becomeHomeOwner(home: string, user: string): Promise<Result<{ uid: number; gid: number }>> {
  const me = uid();
  if (me !== 0) return ok({ uid: me, gid: process.getgid?.() ?? -1 });
  let st;
  try {
    st = statSync(home);
  } catch (err) {
    return temp(`Unable to stat ${home}: ${errText(err)}`, "4.3.0");
  }
  if (st.uid === 0) return temp("Not allowed to deliver as root", "4.7.0");
  const pw = await readPasswd(passwdPath());
  const entry = pw.kind === "ok" ? pw.value.get(user) : undefined;
  const gid = entry && entry.uid === st.uid ? entry.gid : st.gid;
  return switchTo(st.uid, gid);
}

/** setgroups([gid]), setgid, setuid, in that order; a failure is temporary. */
export function switchTo(newUid: number, gid: number): Result<{ uid: number; gid: number }> {
  if (newUid === 0) return temp("Not allowed to deliver as root", "4.7.0");
  try {
    process.setgroups?.([gid]);
    process.setgid!(gid);
    process.setuid!(newUid);
  } catch (err) {
    return temp(`Unable to switch to uid ${newUid}: ${errText(err)}`, "4.3.0");
  }
  if (uid() !== newUid) return temp(`Unable to switch to uid ${newUid}`, "4.3.0");
  return ok({ uid: newUid, gid });
}
