/**
 * Delivery status notifications as RFC 3464 reports (qm-send(8) "Bounces"):
 * a multipart/report whose first part keeps qmail's QSBMF text (docs/qmail.md
 * §2.9, so QSBMF readers still work), a message/delivery-status part, and the
 * original as message/rfc822 or text/rfc822-headers. One builder for failures
 * (bounces), delay warnings, and success and "relayed" notices. Pure: the
 * caller streams the original between head and tail.
 */
import { formatDate822 } from "../base/date822.ts";
import type { MessageDsn, RcptDsn } from "../queue/dsn.ts";
import { bounceHead, type BounceControls, type BouncePlan } from "./bounce.ts";
import type { Envelope } from "../queue/envelope.ts";
import { quote, quote2 } from "../base/quote.ts";

export type NoticeAction = "failed" | "delayed" | "delivered" | "relayed";

/** One recipient of a notice: the address (as in a bounce paragraph) and the report text. */
export interface NoticeRecipient {
  readonly addr: string;
  readonly text: string;
}

export interface NoticeOptions {
  readonly action: NoticeAction;
  readonly controls: BounceControls;
  /** control/me: Reporting-MTA. */
  readonly me: string;
  readonly nowMs: number;
  /** The original's queue id: part of Message-ID and the boundary. */
  readonly id: number;
  /** The original's arrival (s): Arrival-Date. */
  readonly birth: number;
  readonly dsn?: MessageDsn;
  /** Random text for the MIME boundary, so that no quoted original can guess it and end a part early. */
  readonly nonce?: string;
}

/** What surrounds the (cut) original: the original is quoted whole, or only its header. */
export interface Notice {
  readonly head: string;
  readonly tail: string;
  readonly headersOnly: boolean;
}

type Plan = Exclude<BouncePlan, { kind: "triple" }>;

const SUBJECT: Record<NoticeAction, string> = { failed: "failure notice", delayed: "delivery delayed", delivered: "delivery notice", relayed: "delivery notice" };
const INTRO: Record<NoticeAction, string> = {
  failed: "Your message could not be delivered to the addresses below.\nThe failure is permanent: no further attempts will be made.\n",
  delayed: "Your message has not been delivered to the addresses below yet.\nThis is only a warning: I will keep trying, and you need not send it again.\n",
  delivered: "Your message was delivered to the addresses below.\n",
  relayed: "Your message was handed to the next mail server for the addresses below.\nThat server does not send delivery notices, so this is the last one you will get.\n",
};

/** A bounce/<id> file back into its recipients and texts (bounceParagraph()'s inverse, "/" lines again blank). */
export function parseParagraphs(text: string): NoticeRecipient[] {
  const out: NoticeRecipient[] = [];
  for (const para of text.split("\n\n")) {
    const nl = para.indexOf("\n");
    if (nl < 1 || !para.slice(0, nl).endsWith(":")) continue;
    const body = para.slice(nl + 1).replace(/^\/+/gm, (s) => "\n".repeat(s.length));
    out.push({ addr: para.slice(0, nl - 1), text: body.endsWith("\n") ? body : `${body}\n` });
  }
  return out;
}

/** RFC 3463 status of a report: the remote's enhanced code, qm's "(#x.y.z)", the reply's class; a failure is 5.x.x. */
export function statusOf(text: string, action: NoticeAction): string {
  const said = /Remote host said: ([245])\d\d[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(text);
  const own = [...text.matchAll(/\(#([245]\.\d{1,3}\.\d{1,3})\)/g)].pop();
  const reply = /Remote host said: ([245])\d\d\b/.exec(text);
  let s = said?.[2] ?? own?.[1] ?? (reply ? `${reply[1]}.0.0` : action === "failed" ? "5.0.0" : action === "delayed" ? "4.0.0" : "2.0.0");
  if (action === "failed" && !s.startsWith("5")) s = s.startsWith("4") ? "5.4.7" : "5.0.0"; // held until queuelifetime: delivery time expired
  if (action === "delayed" && !s.startsWith("4")) s = "4.0.0";
  if ((action === "delivered" || action === "relayed") && !s.startsWith("2")) s = "2.0.0";
  return s;
}

/** Printable US-ASCII on one line: a delivery-status field value. */
const field = (s: string, max = 900): string => s.replace(/\s+/g, " ").trim().replace(/[^\x20-\x7e]/g, "?").slice(0, max);

/** The remote's reply that "Remote host said: " starts: its first line and the reply lines that go on from it. */
function replyLines(text: string): string {
  const [first = "", ...more] = text.split("\n");
  const out = [first];
  for (const l of more) {
    if (!/^\d{3}[ -]/.test(l)) break;
    out.push(l);
  }
  return out.join(" ");
}

/** The per-recipient fields (RFC 3464 §2.3). */
function recipientFields(r: NoticeRecipient, o: NoticeOptions, dsn: RcptDsn | undefined): string {
  const out: string[] = [];
  if (dsn?.orcpt) {
    const semi = dsn.orcpt.indexOf(";");
    out.push(`Original-Recipient: ${field(semi < 0 ? `rfc822;${dsn.orcpt}` : dsn.orcpt)}`);
  }
  out.push(`Final-Recipient: rfc822;${field(r.addr)}`, `Action: ${o.action}`, `Status: ${statusOf(r.text, o.action)}`);
  const host = /^(?:Connected to (?:LMTP server )?(\S+) but|(\S+) does not like recipient\.)/.exec(r.text);
  if (host) out.push(`Remote-MTA: dns;${field(host[1] ?? host[2]!)}`);
  const said = r.text.indexOf("Remote host said: ");
  if (said >= 0) out.push(`Diagnostic-Code: smtp;${field(replyLines(r.text.slice(said + 18)))}`);
  else if (r.text.trim() !== "") out.push(`Diagnostic-Code: X-qm;${field(r.text)}`);
  out.push(`Last-Attempt-Date: ${formatDate822(o.nowMs)}`);
  return `${out.join("\n")}\n`;
}

/**
 * The notice to the sender of `plan` about the recipients of `paragraphs`
 * (bounce/<id>'s form, bounceParagraph()). A double bounce (plan kind
 * "double") and a failure under control/bouncestyle qsbmf keep qmail's plain form.
 */
export function buildNotice(plan: Plan, paragraphs: string, o: NoticeOptions): Notice {
  const c = o.controls;
  const messageId = `<${o.nowMs}.${o.id}.${o.action === "failed" ? "bounce" : o.action}@${c.bouncehost}>`;
  if (plan.kind === "double" || (c.style === "qsbmf" && o.action === "failed")) {
    return { head: bounceHead(plan, paragraphs, c, o.nowMs, messageId), tail: "", headersOnly: false };
  }
  const rcpts = parseParagraphs(paragraphs);
  const nonce = (o.nonce ?? "").replace(/[^A-Za-z0-9_-]/g, "").slice(0, 24);
  const boundary = `${o.nowMs}.${o.id}${nonce ? `.${nonce}` : ""}/${o.me.replace(/[^A-Za-z0-9.-]/g, "_").slice(0, 40)}`;
  const headersOnly = o.action !== "failed" || o.dsn?.ret === "HDRS";
  const brk = o.action === "failed" ? "--- Below this line is a copy of the message." : "--- Below this line is a copy of the message's header.";
  const status = [`Reporting-MTA: dns;${field(o.me)}`];
  if (o.dsn?.envid !== undefined) status.push(`Original-Envelope-Id: ${field(o.dsn.envid)}`);
  status.push(`Arrival-Date: ${formatDate822(o.birth * 1000)}`);
  const head =
    `Date: ${formatDate822(o.nowMs)}\n` +
    `From: ${quote(c.bouncefrom)}@${c.bouncehost}\n` +
    `To: ${quote2(plan.to)}\n` +
    `Subject: ${SUBJECT[o.action]}\n` +
    `Message-ID: ${messageId}\n` +
    "Auto-Submitted: auto-replied\n" + // RFC 3834: no vacation program answers it
    "MIME-Version: 1.0\n" +
    `Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="${boundary}"\n\n` +
    "This is a MIME-formatted delivery status notification (RFC 3464).\n\n" +
    `--${boundary}\nContent-Type: text/plain\nContent-Description: Notification\n\n` +
    `Hi. This is the qmail-send program at ${c.bouncehost}.\n${INTRO[o.action]}\n` +
    paragraphs +
    `${brk}\n\n` +
    `--${boundary}\nContent-Type: message/delivery-status\nContent-Description: Delivery report\n\n` +
    `${status.join("\n")}\n` +
    rcpts.map((r) => `\n${recipientFields(r, o, o.dsn?.rcpts.get(r.addr))}`).join("") +
    `\n--${boundary}\nContent-Type: ${headersOnly ? "text/rfc822-headers" : "message/rfc822"}\nContent-Description: ${headersOnly ? "The header of the message" : "The message"}\n\n` +
    `Return-Path: <${quote2(plan.returnPath)}>\n`;
  return { head, tail: `\n--${boundary}--\n`, headersOnly };
}

/** A notice ready to be queued: what buildNotice() made, to whom, and how much of the original to quote. */
export interface NoticeJob extends Notice {
  readonly action: NoticeAction;
  readonly envelope: Envelope;
  readonly maxBytes: number;
}

export function noticeJob(plan: Plan, paragraphs: string, o: NoticeOptions): NoticeJob {
  return { ...buildNotice(plan, paragraphs, o), action: o.action, envelope: plan.envelope, maxBytes: o.controls.maxbytes };
}
