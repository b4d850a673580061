import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chownSync, closeSync, constants, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { ok, perm, temp, type Result } from "../../lib/base/result.ts";
import type { KeyType } from "../../lib/dkim/record.ts";
import { errText, fromErrno } from "../base/errno.ts";
import { fsyncPath } from "../base/sys.ts";

// DKIM private keys: PEM files under control/dkim/, mode 0600, owned by the
// user that signs (qmailr in a root install). Reading one is the signer's
// business; a key that cannot be read or is no key is a temporary failure
// with its reason, so the mail waits rather than leaving unsigned.

/** A key file is a few KB; anything larger is not a key. */
const MAX_KEY_FILE = 64 * 1024;
/** RFC 8301 §3.2: signers use at least 1024 bits; verifiers handle up to 4096. */
export const RSA_BITS = { min: 1024, max: 4096, default: 2048 } as const;

export interface SigningKey {
  readonly key: KeyObject;
  readonly type: KeyType;
}

/** control/dkimsign's keyfile: relative to control/. */
export function keyPath(home: string, keyfile: string): string {
  return isAbsolute(keyfile) ? keyfile : join(home, "control", keyfile);
}

/** The default place of a key made by `qm dkim keygen`: control/dkim/DOMAIN/SELECTOR.key. */
export function defaultKeyfile(domain: string, selector: string): string {
  return `dkim/${domain}/${selector}.key`;
}

/** The selectors that have a key in control/dkim/DOMAIN/ (SELECTOR.key), sorted; none when the folder is absent or unreadable. */
export function keyedSelectors(home: string, domain: string): string[] {
  try {
    return readdirSync(join(home, "control", "dkim", domain)).filter((f) => f.endsWith(".key")).map((f) => f.slice(0, -4)).sort();
  } catch {
    return [];
  }
}

/** A PEM private key (PKCS#8 or PKCS#1), RSA of at least 1024 bits or Ed25519. */
export function readSigningKey(path: string): Result<SigningKey> {
  let text: Buffer;
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); // a FIFO must not hang the signer
    try {
      if (!fstatSync(fd).isFile()) return temp(`DKIM key ${path} is not a regular file`);
      text = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    return temp(`Unable to read DKIM key ${path}: ${errText(err)}`);
  }
  if (text.length > MAX_KEY_FILE) return temp(`DKIM key ${path} is not a private key: too large`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: "pem" });
  } catch {
    return temp(`DKIM key ${path} is not a private key`);
  }
  const type = key.asymmetricKeyType;
  if (type === "ed25519") return ok({ key, type });
  if (type !== "rsa") return temp(`DKIM key ${path} is a ${String(type)} key: only rsa and ed25519 sign`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < RSA_BITS.min) return temp(`DKIM key ${path} has ${bits} bits: RSA keys need ${RSA_BITS.min} or more`);
  return ok({ key, type });
}

/** The p= value of the key record for a private or public key. */
export function publicKeyBase64(key: KeyObject): string {
  const pub = key.type === "public" ? key : createPublicKey(key);
  const der = pub.export({ format: "der", type: "spki" });
  // Ed25519: the bare 32-byte key after the 12-byte SPKI prefix (RFC 8463 §4)
  return (pub.asymmetricKeyType === "ed25519" ? der.subarray(der.length - 32) : der).toString("base64");
}

/** A new key pair, the private key as PKCS#8 PEM. */
export function generateSigningKey(type: KeyType, bits: number): { pem: string; key: KeyObject } {
  const pair = type === "rsa" ? generateKeyPairSync("rsa", { modulusLength: bits }) : generateKeyPairSync("ed25519");
  return { pem: pair.privateKey.export({ format: "pem", type: "pkcs8" }).toString(), key: pair.privateKey };
}

/**
 * Writes a new key file, mode 0600, owned by `owner` when given (root making
 * the key for qmailr): written under a temporary name, fsynced, then linked
 * into place, so a key file is whole or absent. An existing key is never
 * overwritten (perm: the operator chooses another selector or removes it).
 */
export async function writeKeyFile(path: string, pem: string, owner?: { uid: number; gid: number }): Promise<Result<void>> {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  } catch (err) {
    return fromErrno(err, `Unable to make ${dirname(path)}`);
  }
  const tmp = `${path}.tmp${process.pid}`;
  const drop = (): void => {
    try {
      unlinkSync(tmp);
    } catch {
      // never made
    }
  };
  try {
    const fd = openSync(tmp, "wx", 0o600);
    try {
      if (owner) chownSync(tmp, owner.uid, owner.gid);
      writeSync(fd, pem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    drop();
    return fromErrno(err, `Unable to write ${tmp}`);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    drop();
    if ((err as { code?: unknown }).code === "EEXIST") return perm(`DKIM key ${path} already exists`);
    return fromErrno(err, `Unable to write ${path}`);
  }
  drop();
  await fsyncPath(dirname(path), { directory: true });
  return ok(undefined);
}
