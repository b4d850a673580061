import { isDomainName, isSelector, parseDkimSign, type SignEntry } from "../lib/dkim/config.ts";
import { formatKeyRecord, formatZoneLine, type KeyType } from "../lib/dkim/record.ts";
import { ok, perm, temp, type Result } from "../lib/base/result.ts";
import { readControlList } from "../io/base/control.ts";
import { getpwnam, passwdPath } from "../io/base/passwd.ts";
import { defaultKeyfile, generateSigningKey, keyedSelectors, keyPath, publicKeyBase64, readSigningKey, RSA_BITS, writeKeyFile } from "../io/dkim/keys.ts";
import { nameServers } from "../io/remote/resolv.ts";

// qm dkim (qm-dkim(8)): keygen DOMAIN SELECTOR, show DOMAIN, check DOMAIN.
// Keys live in control/dkim/DOMAIN/SELECTOR.key, mode 0600, owned by the user
// that signs: in a root install qm remote runs as qmailr, so root's keygen
// gives the key to qmailr when that user exists.

export interface DkimOptions {
  readonly type?: string;
  readonly bits?: string;
  readonly out: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

const USAGE = "Usage: qm dkim keygen DOMAIN SELECTOR [--type rsa|ed25519] [--bits N] | show DOMAIN | check DOMAIN";

/** The user that signs (qm rspawn's, core/io/send/spawner.ts). */
const REMOTE_USER = "qmailr";

export async function dkim(home: string, argv: readonly string[], opts: DkimOptions): Promise<Result<void>> {
  const [verb, domain = "", selector] = argv;
  const name = domain.toLowerCase().replace(/\.$/, "");
  if (verb !== "keygen" && verb !== "show" && verb !== "check") return perm(USAGE);
  if (!isDomainName(name)) return perm(`Usage: qm dkim keygen|show|check DOMAIN: bad domain ${JSON.stringify(domain)}`);
  if (verb === "keygen" && argv.length === 3) return keygen(home, name, (selector ?? "").toLowerCase(), opts);
  if (verb === "show" && argv.length === 2) return each(home, name, opts, async (e, path) => {
    const key = readSigningKey(path);
    if (key.kind !== "ok") return key;
    return ok(formatZoneLine(e.selector, name, formatKeyRecord(key.value.type, publicKeyBase64(key.value.key))));
  });
  if (verb === "check" && argv.length === 2) {
    const servers = await nameServers(home);
    if (servers.kind !== "ok") return servers;
    const { checkPublished } = await import("../io/dkim/check.ts");
    return each(home, name, opts, async (e, path) => {
      const key = readSigningKey(path);
      return key.kind !== "ok" ? key : checkPublished({ servers: servers.value, timeoutMs: 3000, tries: 2 }, name, e.selector, key.value);
    });
  }
  return perm(USAGE);
}

async function keygen(home: string, domain: string, selector: string, opts: DkimOptions): Promise<Result<void>> {
  if (!isSelector(selector)) return perm(`Bad selector ${JSON.stringify(selector)}: letters, digits, hyphens and dots`);
  const type = (opts.type ?? "rsa").toLowerCase();
  if (type !== "rsa" && type !== "ed25519") return perm(`Bad key type ${JSON.stringify(opts.type)}: rsa or ed25519`);
  const bits = opts.bits === undefined ? RSA_BITS.default : /^\d{1,5}$/.test(opts.bits) ? Number(opts.bits) : NaN;
  if (!(bits >= RSA_BITS.min && bits <= RSA_BITS.max)) return perm(`Bad key size ${JSON.stringify(opts.bits)}: ${RSA_BITS.min} to ${RSA_BITS.max} bits`);
  const keyfile = defaultKeyfile(domain, selector);
  const made = generateSigningKey(type as KeyType, bits);
  const user = process.getuid?.() === 0 ? await getpwnam(REMOTE_USER, passwdPath(opts.env)) : null;
  const written = await writeKeyFile(keyPath(home, keyfile), made.pem, user ? { uid: user.uid, gid: user.gid } : undefined);
  if (written.kind !== "ok") return written;
  opts.out(`; private key: control/${keyfile}${user ? ` (owner ${REMOTE_USER})` : ""}`);
  opts.out(`; publish this TXT record, then add "${domain}:${selector}:${keyfile}" to control/dkimsign`);
  opts.out(formatZoneLine(selector, domain, formatKeyRecord(type, publicKeyBase64(made.key))));
  return ok(undefined);
}

/** The selectors of `domain`: its control/dkimsign lines, then keys in control/dkim/DOMAIN/ not listed there. */
async function selectorsOf(home: string, domain: string): Promise<Result<SignEntry[]>> {
  const lines = await readControlList(home, "dkimsign");
  if (lines.kind !== "ok") return lines;
  const parsed = parseDkimSign(lines.value ?? []);
  if (parsed.kind !== "ok") return parsed;
  const listed = parsed.value.filter((e) => e.domain === domain);
  for (const sel of keyedSelectors(home, domain)) {
    if (isSelector(sel) && !listed.some((e) => e.selector === sel)) listed.push({ domain, selector: sel, keyfile: defaultKeyfile(domain, sel) });
  }
  return ok(listed);
}

/** One line a selector on `out`; the worst failure is the result. */
async function each(home: string, domain: string, opts: DkimOptions, step: (e: SignEntry, path: string) => Promise<Result<string>>): Promise<Result<void>> {
  const entries = await selectorsOf(home, domain);
  if (entries.kind !== "ok") return entries;
  if (entries.value.length === 0) return perm(`No DKIM key for ${domain}: none in control/dkimsign or control/dkim/${domain}/`);
  let worst: Result<void> = ok(undefined);
  for (const e of entries.value) {
    const r = await step(e, keyPath(home, e.keyfile));
    if (r.kind === "ok") opts.out(r.value);
    else {
      opts.out(`${e.selector}._domainkey.${domain}: ${r.reason}`);
      if (worst.kind !== "temp") worst = r.kind === "temp" ? temp(`${domain}: a DKIM check failed for now`) : perm(`${domain}: a DKIM key is not right`);
    }
  }
  return worst;
}
