import type { Peer } from "../../lib/base/peer.ts";
import type { DovecotVerdict } from "../../lib/smtpd/dovecot.ts";
import { checkPassword } from "./checkpassword.ts";
import type { SmtpControls } from "./controls.ts";
import { dovecotCheck } from "./dovecot-auth.ts";
import { virtualCheck } from "./virtual-auth.ts";

export type AuthBackEnd = "dovecot" | "checkpassword" | "virtualusers";

/**
 * The password check of an AUTH (qm-smtpd(8), AUTHENTICATION): Dovecot's
 * auth service when control/dovecotauth names it, else control/checkpassword,
 * else control/virtualusers' hashes.
 */
export async function checkAuth(home: string, c: SmtpControls, user: string, pass: string, peer: Peer, tls: boolean): Promise<{ via: AuthBackEnd; verdict: DovecotVerdict }> {
  if (c.dovecotauth !== null) return { via: "dovecot", verdict: await dovecotCheck(c.dovecotauth, user, pass, { service: "smtp", localIP: peer.localIP, remoteIP: peer.remoteIP, secured: tls }) };
  if (c.checkpassword === null && c.virtualauth) {
    const v = virtualCheck(home, user, pass);
    return { via: "virtualusers", verdict: v.kind === "ok" ? { kind: "ok", user: null } : v.kind === "no" ? { kind: "no", reason: null } : v };
  }
  const v = await checkPassword(c.checkpassword ?? "", user, pass);
  const verdict: DovecotVerdict = v === "ok" ? { kind: "ok", user: null } : v === "no" ? { kind: "no", reason: null } : { kind: "temp", reason: "the checkpassword program failed or did not answer" };
  return { via: "checkpassword", verdict };
}
