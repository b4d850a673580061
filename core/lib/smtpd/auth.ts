/**
 * SASL PLAIN (RFC 4616) and LOGIN for SMTP AUTH (RFC 4954), as a small pure
 * exchange: a mechanism is started by "AUTH mech [initial]"; each client line
 * answers a 334 challenge; the end is the user name and password to check.
 */
export type Sasl = { readonly mech: "plain" } | { readonly mech: "login"; readonly user: string | null };

export type SaslStep =
  | { readonly kind: "challenge"; readonly sasl: Sasl; readonly reply: string }
  | { readonly kind: "check"; readonly mech: Sasl["mech"]; readonly user: string; readonly pass: string }
  | { readonly kind: "fail"; readonly reply: string };

/** RFC 4954: the longest line an AUTH exchange must accept. */
export const MAX_AUTH_LINE = 12_288;
const MAX_FIELD = 1024;
const USERNAME = "334 VXNlcm5hbWU6"; // "Username:"
const PASSWORD = "334 UGFzc3dvcmQ6"; // "Password:"

/** Base64 to a byte string, or null when the text is not canonical base64. */
function decodeBase64(s: string): string | null {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  try {
    return atob(s);
  } catch {
    return null;
  }
}

const START = new Map<string, (initial: string | null) => SaslStep>([
  ["plain", (initial) => (initial === null ? { kind: "challenge", sasl: { mech: "plain" }, reply: "334 " } : answer({ mech: "plain" }, initial))],
  ["login", (initial) => (initial === null ? { kind: "challenge", sasl: { mech: "login", user: null }, reply: USERNAME } : answer({ mech: "login", user: null }, initial))],
]);

/** "AUTH PLAIN dGVzdA..." -> the first step; mechanism names are case-insensitive. */
export function startSasl(arg: string): SaslStep {
  const [mech = "", initial, extra] = arg.split(" ");
  if (extra !== undefined) return { kind: "fail", reply: "501 5.5.4 syntax error: AUTH mechanism [initial-response]" };
  const start = START.get(mech.toLowerCase());
  if (!start) return { kind: "fail", reply: "504 5.5.4 unrecognized authentication mechanism (PLAIN and LOGIN are offered)" };
  return start(initial === undefined ? null : initial === "=" ? "" : initial);
}

/** One client line in answer to a 334. */
export function answer(sasl: Sasl, line: string): SaslStep {
  if (line === "*") return { kind: "fail", reply: "501 5.0.0 authentication cancelled" };
  const text = decodeBase64(line);
  if (text === null) return { kind: "fail", reply: "501 5.5.2 cannot decode the base64 response" };
  if (sasl.mech === "plain") return plain(text);
  if (sasl.user === null) {
    if (text === "" || text.length > MAX_FIELD || text.includes("\0")) return { kind: "fail", reply: "501 5.5.2 bad user name" };
    return { kind: "challenge", sasl: { mech: "login", user: text }, reply: PASSWORD };
  }
  if (text.length > MAX_FIELD || text.includes("\0")) return { kind: "fail", reply: "501 5.5.2 bad password" };
  return { kind: "check", mech: "login", user: sasl.user, pass: text };
}

function plain(text: string): SaslStep {
  const parts = text.split("\0");
  if (parts.length !== 3) return { kind: "fail", reply: "501 5.5.2 PLAIN response must be authzid NUL user NUL password" };
  const [authz = "", user = "", pass = ""] = parts;
  if (user === "" || user.length > MAX_FIELD || pass.length > MAX_FIELD) return { kind: "fail", reply: "501 5.5.2 bad user name or password" };
  if (authz !== "" && authz !== user) return { kind: "fail", reply: "535 5.7.8 authorization identity must equal the user name" };
  return { kind: "check", mech: "plain", user, pass };
}
