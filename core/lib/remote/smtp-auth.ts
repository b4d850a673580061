/**
 * SMTP AUTH as a client (RFC 4954) for the relays of control/smtproutes:
 * control/smtpauth's lines, the lookup by route, the mechanism choice
 * (PLAIN, else LOGIN) and the responses. Pure: text is a byte string
 * (core/lib/base/bytes.ts), so a UTF-8 password goes out byte for byte.
 */
import { parseRouteValue, type Route } from "./mx.ts";

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** One line of control/smtpauth: the relay as smtproutes writes it (lowercased), its port, the credentials. */
export interface AuthEntry extends Credentials {
  readonly relay: string;
  readonly port: number;
}

/** Submissions over implicit TLS (RFC 8314 §3.3): a route to this port speaks TLS from the first byte. */
export const SUBMISSIONS_PORT = 465;
/** A user name or a password; RFC 4954 allows a 12,288-byte AUTH line, the base64 of both fits. */
export const CREDENTIAL_MAX = 1024;

export function implicitTls(port: number): boolean {
  return port === SUBMISSIONS_PORT;
}

/**
 * "HOST:USER:PASSWORD", HOST as in smtproutes: "relay.example",
 * "relay.example:587", "[relay.example]", "[192.0.2.1]:465". The field after
 * the host is its port when it is all digits and two fields follow it. USER
 * ends at the next ":"; PASSWORD is the rest of the line, ":" and spaces
 * included. An error names what is wrong, never the password.
 */
export function parseAuthLine(line: string): AuthEntry | string {
  let host: string;
  let rest: string;
  if (line.startsWith("[")) {
    const close = line.indexOf("]");
    if (close < 0) return "no ] after [ in the host";
    host = line.slice(0, close + 1);
    rest = line.slice(close + 1);
    if (!rest.startsWith(":")) return "no : after the host";
    rest = rest.slice(1);
  } else {
    const colon = line.indexOf(":");
    if (colon < 0) return "no : after the host";
    host = line.slice(0, colon);
    rest = line.slice(colon + 1);
  }
  if (host === "" || host === "[]") return "empty host";
  const fields = rest.split(":");
  let port = "";
  if (fields.length >= 3 && /^\d+$/.test(fields[0]!)) port = fields.shift()!;
  if (fields.length < 2) return "no : between the user name and the password";
  const route = parseRouteValue(port === "" ? host : `${host}:${port}`);
  if (!route || route.relay !== host) return "bad port";
  const user = fields[0]!;
  const password = fields.slice(1).join(":");
  if (user === "") return "empty user name";
  if (password === "") return "empty password";
  if (user.length > CREDENTIAL_MAX || password.length > CREDENTIAL_MAX) return `user name or password longer than ${CREDENTIAL_MAX} bytes`;
  if (/\0/.test(user + password)) return "NUL in the user name or password";
  return { relay: host.toLowerCase(), port: route.port, user, password };
}

/**
 * The whole file: every line but empty ones and "#" comments; a CR before
 * the line end is dropped, nothing else (a password may end in a space).
 * A bad line makes the file unusable, with the line's number.
 */
export function parseSmtpAuth(text: string): AuthEntry[] | string {
  const out: AuthEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line.trim() === "" || line.startsWith("#")) continue;
    const e = parseAuthLine(line);
    if (typeof e === "string") return `line ${i + 1}: ${e}`;
    out.push(e);
  }
  return out;
}

/**
 * The credentials for a route that names a relay (never for an MX lookup):
 * the same relay text, case aside, and the same port ("relay" is
 * "relay:25"). The later line wins, as in smtproutes.
 */
export function findCredentials(entries: readonly AuthEntry[], route: Route | null): Credentials | null {
  if (!route || route.relay === "") return null;
  const relay = route.relay.toLowerCase();
  let hit: AuthEntry | null = null;
  for (const e of entries) if (e.relay === relay && e.port === route.port) hit = e;
  return hit ? { user: hit.user, password: hit.password } : null;
}

export type Mechanism = "PLAIN" | "LOGIN";

/** PLAIN when offered, else LOGIN, else null; `offered` is the AUTH keyword's parameters. */
export function chooseMechanism(offered: string | undefined): Mechanism | null {
  const names = new Set((offered ?? "").toUpperCase().split(/[ \t]+/));
  return names.has("PLAIN") ? "PLAIN" : names.has("LOGIN") ? "LOGIN" : null;
}

/** RFC 4616: the initial response "\0user\0password", base64. */
export function plainResponse(c: Credentials): string {
  return btoa(`\0${c.user}\0${c.password}`);
}

/** LOGIN: the user name, then the password, each base64 (the server's prompts are not read). */
export function loginResponses(c: Credentials): [string, string] {
  return [btoa(c.user), btoa(c.password)];
}
