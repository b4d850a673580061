// The DNS side of a DKIM key (RFC 6376 §3.6.1, RFC 8463 §4): the name a
// selector's record lives at and the TXT text to publish.

export type KeyType = "rsa" | "ed25519";

/** RFC 1035 §3.3.14: one character-string holds at most 255 bytes. */
const TXT_CHUNK = 255;

/** "s1" and "example.org" → "s1._domainkey.example.org". */
export function recordName(selector: string, domain: string): string {
  return `${selector}._domainkey.${domain}`;
}

/**
 * The key record: p= is the SubjectPublicKeyInfo for RSA (what verifiers
 * read, RFC 6376 §3.6.1), the bare 32-byte key for Ed25519 (RFC 8463 §4).
 */
export function formatKeyRecord(type: KeyType, publicKeyBase64: string): string {
  return `v=DKIM1; k=${type}; p=${publicKeyBase64}`;
}

/** The record as character-strings of at most 255 bytes each. */
export function splitTxt(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += TXT_CHUNK) out.push(text.slice(i, i + TXT_CHUNK));
  return out.length > 0 ? out : [""];
}

/** A zone-file line for the record, ready to paste into a zone. */
export function formatZoneLine(selector: string, domain: string, record: string): string {
  const strings = splitTxt(record).map((s) => `"${s}"`);
  return `${recordName(selector, domain)}. IN TXT ( ${strings.join(" ")} )`;
}
