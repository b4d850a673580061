/**
 * Bounces in qmail's format, QSBMF (docs/qmail.md §2.9): one paragraph per failed
 * recipient accumulated in bounce/<id>, then one message to the sender (or,
 * for a message with an empty sender, to doublebounceto) quoting the
 * original. Pure: the caller appends the paragraphs and the mess file.
 */
import { formatDate822 } from "../base/date822.ts";
import type { Envelope } from "../queue/envelope.ts";
import { quote, quote2 } from "../base/quote.ts";

/** The envelope sender of a double bounce; a failed double bounce is discarded. */
export const DOUBLE_BOUNCE_SENDER = "#@[]";

/** bounce/<id> paragraph: "recip:\n" + text ending in "\n" with no blank line + "\n". */
export function bounceParagraph(recipient: string, text: string): string {
  let body = `${recipient.replace(/\n/g, "_")}:\n${text}`;
  if (!body.endsWith("\n")) body += "\n";
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    out += c === "\n" && i > 0 && body[i - 1] === "\n" ? "/" : c;
  }
  return `${out}\n`;
}

export interface BounceControls {
  readonly bouncefrom: string;
  readonly bouncehost: string;
  readonly doublebounceto: string;
  readonly doublebouncehost: string;
  /** control/bouncemaxbytes: how much of the original's header, and then of its body, a bounce quotes. */
  readonly maxbytes: number;
  /** control/bouncestyle: "dsn" (RFC 3464, the default) or "qsbmf" (qmail's plain text). */
  readonly style?: BounceStyle;
}

export type BounceStyle = "dsn" | "qsbmf";

/** Postfix's bounce_size_limit: a 30 MB message must not come back as a 30 MB bounce. */
export const BOUNCE_MAX_BYTES = 50_000;

export type BouncePlan =
  | { readonly kind: "triple" }
  | { readonly kind: "single" | "double"; readonly envelope: Envelope; readonly to: string; readonly returnPath: string };

/** Who gets the bounce of a message whose envelope sender was `sender`. */
export function planBounce(sender: string, c: BounceControls): BouncePlan {
  const s = sender.endsWith("-@[]") ? sender.slice(0, -4) : sender;
  if (s === DOUBLE_BOUNCE_SENDER) return { kind: "triple" };
  if (s !== "") return { kind: "single", envelope: { sender: "", recipients: [s] }, to: s, returnPath: s };
  const to = `${c.doublebounceto}@${c.doublebouncehost}`;
  return { kind: "double", envelope: { sender: DOUBLE_BOUNCE_SENDER, recipients: [to] }, to, returnPath: s };
}

/**
 * Everything of the bounce message before the original: header, the QSBMF
 * intro, the recipient paragraphs, the break paragraph and Return-Path.
 */
export function bounceHead(plan: Exclude<BouncePlan, { kind: "triple" }>, paragraphs: string, c: BounceControls, nowMs: number, messageId?: string): string {
  const intro =
    plan.kind === "single"
      ? "Your message could not be delivered to the addresses below.\nThe failure is permanent: no further attempts will be made.\n"
      : "A bounce message could not be delivered to the address below.\n";
  const brk = plan.kind === "single" ? "--- Below this line is a copy of the message." : "--- Below this line is the original bounce.";
  return (
    `Date: ${formatDate822(nowMs)}\n` +
    `From: ${quote(c.bouncefrom)}@${c.bouncehost}\n` +
    `To: ${quote2(plan.to)}\n` +
    "Subject: failure notice\n" +
    (messageId ? `Message-ID: ${messageId}\n` : "") +
    "Auto-Submitted: auto-replied\n\n" + // RFC 3834: no vacation program answers it
    `Hi. This is the qmail-send program at ${c.bouncehost}.\n${intro}\n` +
    paragraphs +
    `${brk}\n\n` +
    `Return-Path: <${quote2(plan.returnPath)}>\n`
  );
}

export { quote, quote2 };
