/**
 * The client side of Dovecot's authentication protocol (version 1, the one
 * Postfix's smtpd_sasl_type=dovecot speaks), as pure steps over lines.
 * The client says VERSION and CPID; the server answers VERSION, its MECH
 * lines, SPID, CUID, COOKIE and DONE; then one AUTH request with the whole
 * response (resp=) gets OK, FAIL or CONT. qm smtpd decodes PLAIN and LOGIN
 * itself and asks Dovecot with PLAIN, so only PLAIN must be offered.
 * Fields are separated by TAB; a value escapes \x01, TAB, CR and LF as
 * \x01 followed by 1, t, r, n.
 */

/** A line from the server longer than this ends the exchange (Dovecot's own are far shorter). */
export const MAX_DOVECOT_LINE = 16_384;
/** All the server may send before the answer to our request. */
export const MAX_DOVECOT_BYTES = 65_536;

export function escapeValue(s: string): string {
  return s.replace(/[\x01\t\r\n]/g, (c) => `\x01${c === "\x01" ? "1" : c === "\t" ? "t" : c === "\r" ? "r" : "n"}`);
}

export function unescapeValue(s: string): string {
  return s.replace(/\x01(.?)/gs, (_m, c: string) => (c === "1" ? "\x01" : c === "t" ? "\t" : c === "r" ? "\r" : c === "n" ? "\n" : c));
}

/** What the client says first. */
export function hello(pid: number): string {
  return `VERSION\t1\t1\nCPID\t${pid}\n`;
}

export interface Handshake {
  readonly version: boolean;
  readonly plain: boolean;
  readonly done: boolean;
}

export const NEW_HANDSHAKE: Handshake = { version: false, plain: false, done: false };

/** One server line of the handshake -> the next state, or why the server cannot be used. */
export function handshakeLine(h: Handshake, line: string): Handshake | { readonly error: string } {
  const f = line.split("\t");
  const what = f[0];
  if (!h.version) {
    if (what !== "VERSION") return { error: "Dovecot's auth service did not start with VERSION" };
    if (f[1] !== "1") return { error: `Dovecot's auth service speaks protocol version ${printable(f[1] ?? "")}, not 1` };
    return { ...h, version: true };
  }
  if (what === "MECH") return (f[1] ?? "").toUpperCase() === "PLAIN" ? { ...h, plain: true } : h;
  if (what === "DONE") {
    if (!h.plain) return { error: "Dovecot's auth service does not offer PLAIN (add plain to auth_mechanisms)" };
    return { ...h, done: true };
  }
  return h; // SPID, CUID, COOKIE and anything a later Dovecot adds
}

export interface AuthInfo {
  readonly service: string; // "smtp"
  readonly localIP: string;
  readonly remoteIP: string;
  readonly secured: boolean; // the client is on TLS
}

/** The AUTH request: PLAIN with the whole response, nothing to log in to. */
export function authRequest(id: number, user: string, pass: string, info: AuthInfo): string {
  const fields = ["AUTH", String(id), "PLAIN", `service=${escapeValue(info.service)}`, "nologin"];
  if (ipLike(info.localIP)) fields.push(`lip=${info.localIP}`);
  if (ipLike(info.remoteIP)) fields.push(`rip=${info.remoteIP}`);
  if (info.secured) fields.push("secured");
  fields.push(`resp=${btoa(`\0${user}\0${pass}`)}`);
  return `${fields.join("\t")}\n`;
}

export type DovecotVerdict =
  | { readonly kind: "ok"; readonly user: string | null } // the user name Dovecot gives back, when it gives one
  | { readonly kind: "no"; readonly reason: string | null }
  | { readonly kind: "temp"; readonly reason: string };

/** A server line after the request: the verdict for request `id`, or null for a line about something else. */
export function authReply(id: number, line: string): DovecotVerdict | null {
  const f = line.split("\t");
  if (f[1] !== String(id)) return null;
  const params = new Map<string, string>();
  const flags = new Set<string>();
  for (const p of f.slice(2)) {
    const eq = p.indexOf("=");
    if (eq < 0) flags.add(p);
    else params.set(p.slice(0, eq), unescapeValue(p.slice(eq + 1)));
  }
  const reason = params.get("reason");
  if (f[0] === "OK") {
    const user = params.get("user");
    return { kind: "ok", user: user !== undefined && goodUser(user) ? user : null };
  }
  if (f[0] === "FAIL") {
    if (flags.has("temp") || params.has("temp")) return { kind: "temp", reason: `Dovecot: temporary failure${reason ? `: ${printable(reason)}` : ""}` };
    return { kind: "no", reason: reason ? printable(reason) : null };
  }
  if (f[0] === "CONT") return { kind: "temp", reason: "Dovecot asked for more than the PLAIN response" };
  return null;
}

/** A user name Dovecot hands back is used only when it is a plain one. */
function goodUser(u: string): boolean {
  return u !== "" && u.length <= 1024 && !/[\0-\x1f\x7f]/.test(u);
}

function ipLike(s: string): boolean {
  return /^[0-9A-Fa-f.:]{2,45}$/.test(s);
}

function printable(s: string): string {
  const t = s.replace(/[^\x20-\x7e]/g, "?");
  return t.length > 200 ? `${t.slice(0, 200)}...` : t;
}
