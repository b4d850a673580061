import { isDomainName } from "./config.ts";

// The domain of the From header field (RFC 5322 §3.6.2), the one DMARC
// aligns with: the first mailbox's, comments and display names removed.
// Header text is a byte string (core/lib/base/bytes.ts) and hostile.

/** At most this much of a From field is looked at. */
const MAX_FIELD = 64 * 1024;

/** The field value without (comments), nested or not, quoted strings kept; an unclosed comment runs to the end. */
export function stripComments(value: string): string {
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === "\\" && (quoted || depth > 0)) {
      if (depth === 0) out += c + (value[i + 1] ?? "");
      i++;
    } else if (quoted) {
      out += c;
      if (c === '"') quoted = false;
    } else if (c === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (depth === 0) {
      if (c === '"') quoted = true;
      out += c;
    }
  }
  return out;
}

/** The first mailbox of a mailbox list: up to a comma outside quotes and angle brackets. */
function firstMailbox(value: string): string {
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === "<") angle = true;
    else if (!quoted && c === ">") angle = false;
    else if (!quoted && !angle && c === ",") return value.slice(0, i);
  }
  return value;
}

/** "From: Al <al@Mail.Example.ORG>" value → "mail.example.org"; null when there is no usable domain. */
export function fromDomain(fieldValue: string): string | null {
  const bare = stripComments(fieldValue.slice(0, MAX_FIELD).replace(/\r?\n/g, "")).replace(/"(?:[^"\\]|\\.)*"/g, '""'); // no domain is quoted
  const value = firstMailbox(bare);
  const angle = /<([^<>]*)>/.exec(value);
  const addr = (angle ? angle[1]! : value.replace(/^[^:]*:(?=[^:]*@)/, "")).trim(); // group "name:" prefix
  const at = addr.lastIndexOf("@");
  if (at < 0) return null;
  const domain = addr.slice(at + 1).replace(/[;\s]+$/, "").toLowerCase().replace(/\.$/, "");
  return isDomainName(domain) ? domain : null;
}
