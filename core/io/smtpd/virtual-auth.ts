import { verify } from "unixcrypt";
import { virtualPassword } from "../local/users.ts";

// AUTH against control/virtualusers' password hashes (qm-control(5)): the
// SHA-crypt hashes Dovecot's `doveadm pw -s SHA512-CRYPT` (or SHA256-CRYPT)
// and glibc's crypt(3) write, with or without Dovecot's {SCHEME} prefix, so
// one file can serve Dovecot's passdb and qm's AUTH. unixcrypt (Apache-2.0,
// no dependencies) does the hashing.

/** A hash to check unknown users against, so they take as long as known ones. */
const DUMMY = "$6$qmqmqmqmqmqmqmqm$NGnMrdJZF1dxVslhWz0QXgONdyjC.YYJfYY5d2AVQF0WdEoSWBVEmPuclqWaCedCEKpUSBHzYYeNG2h1bycCj0";
const SCHEMES = /^\{(SHA512-CRYPT|SHA256-CRYPT|CRYPT)\}/i;

export type VirtualVerdict = { kind: "ok" } | { kind: "no" } | { kind: "temp"; reason: string };

/** Whether control/virtualusers holds password hashes: then it is an AUTH back end. */
export function virtualAuthOn(qmhome: string): boolean {
  const r = virtualPassword(qmhome, "");
  return r.kind !== "ok" || r.value !== "none"; // an unreadable file: on, and each AUTH says why it cannot answer
}

export function virtualCheck(qmhome: string, user: string, pass: string): VirtualVerdict {
  const r = virtualPassword(qmhome, user);
  if (r.kind !== "ok") return { kind: "temp", reason: r.reason };
  const hash = r.value === "none" || r.value === null ? null : r.value.replace(SCHEMES, "");
  if (hash !== null && !/^\$[56]\$/.test(hash)) return { kind: "temp", reason: `control/virtualusers: the hash for ${user} is not SHA512-CRYPT or SHA256-CRYPT` };
  let good = false;
  try {
    good = verify(pass, hash ?? DUMMY) && hash !== null;
  } catch {
    return { kind: "temp", reason: `control/virtualusers: the hash for ${user} does not parse` };
  }
  return good ? { kind: "ok" } : { kind: "no" };
}
