/**
 * qmail-send's log lines (docs/qmail.md §2.10, qm-log(5)), byte for byte. Each
 * function returns one whole line; the caller writes it with one write.
 * Addresses and report texts pass through logSafe-style substitution.
 */
import type { Channel } from "./rewrite.ts";

export { logSafe as safe } from "../base/log-safe.ts";
import { logSafe as safe } from "../base/log-safe.ts";
import { reloadLine } from "../base/reload.ts";

export interface Usage {
  readonly local: number;
  readonly localMax: number;
  readonly remote: number;
  readonly remoteMax: number;
  readonly exiting: boolean;
}

export const line = {
  status: (u: Usage) => `status: local ${u.local}/${u.localMax} remote ${u.remote}/${u.remoteMax}${u.exiting ? " exitasap" : ""}\n`,
  exiting: () => "status: exiting\n",
  newMsg: (id: number) => `new msg ${id}\n`,
  infoMsg: (id: number, bytes: number, sender: string, qp: string, uid: string) =>
    `info msg ${id}: bytes ${bytes} from <${safe(sender)}> qp ${qp} uid ${uid}\n`,
  starting: (d: number, id: number, chan: Channel, recip: string) => `starting delivery ${d}: msg ${id} to ${chan} ${safe(recip)}\n`,
  success: (d: number, text: string) => `delivery ${d}: success: ${safe(text)}\n`,
  failure: (d: number, text: string) => `delivery ${d}: failure: ${safe(text)}\n`,
  deferral: (d: number, text: string) => `delivery ${d}: deferral: ${safe(text)}\n`,
  mangled: (d: number) => `delivery ${d}: report mangled, will defer\n`,
  bounceMsg: (id: number, qp: number) => `bounce msg ${id} qp ${qp}\n`,
  /** qm's: a delivery status notice other than a bounce (delay warning, success) queued */
  noticeMsg: (id: number, qp: number, action: string) => `notice msg ${id} qp ${qp}: ${action}\n`,
  tripleBounce: (id: number) => `triple bounce: discarding bounce/${id}\n`,
  endMsg: (id: number) => `end msg ${id}\n`,
  /** a local user's maildrop/ file (or a non-root smtpd's message) taken into the queue: "maildrop/NAME uid U queued as ID" */
  intake: (text: string) => `info ${text.split(" ").map(safe).join(" ")}\n`,
  /** SIGHUP: the control files were read again (core/lib/base/reload.ts) */
  reload: (changed: readonly string[]) => `${reloadLine("send", changed)}\n`,
  warning: (text: string) => `warning: ${text}\n`,
  alert: (text: string) => `alert: ${text}\n`,
} as const;
