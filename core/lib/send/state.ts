/**
 * The queue manager's bookkeeping types (qmail-send's job table): a message
 * known to send, a pass over one of its channel files, a delivery in flight;
 * and what the queue store tells it about a message.
 */
import type { BounceControls } from "./bounce.ts";
import type { DsnState } from "../queue/dsn.ts";
import type { Channel, RewriteRules } from "./rewrite.ts";

/** One T/D record of a channel file and its byte offset (the checkpoint's target). */
export interface ChannelRecord {
  readonly offset: number;
  readonly addr: string;
  readonly done: boolean;
}

/** A message just preprocessed from todo/ (its files written, not yet durable). */
export interface NewMessage {
  readonly id: number;
  readonly sender: string;
  readonly bytes: number;
  readonly qp: string;
  readonly uid: string;
  readonly birth: number; // Unix seconds: mtime of info
  readonly channels: readonly Channel[];
  /** A hold or delete mark (qm-qctl(8)): no pass is opened. */
  readonly held?: boolean;
  /** queue/dsn/: RFC 3461 parameters, delay warning sent, successes to report. */
  readonly dsn?: DsnState;
}

/** A message found in info/ at start-up. */
export interface KnownMessage {
  readonly id: number;
  readonly birth: number; // Unix seconds: mtime of info
  readonly sender: string;
  /** Next retry per channel that has a file (its mtime), seconds. */
  readonly channels: ReadonlyMap<Channel, number>;
  /** A hold or delete mark (qm-qctl(8)): no pass is opened. */
  readonly held?: boolean;
  readonly dsn?: DsnState;
}

/** The control files `qm send` runs on. */
export interface SendControls {
  readonly me: string;
  readonly rules: RewriteRules;
  readonly bounce: BounceControls;
  readonly concurrency: Readonly<Record<Channel, number>>;
  /** Local deliveries one recipient may have at once (control/concurrencyrecipient); absent or 0: no limit but the channel's. */
  readonly concurrencyRecipient?: number;
  readonly lifetime: number;
  /** control/delaywarning: seconds after which a deferred message's sender is warned, once; 0 or absent: never. */
  readonly delaywarning?: number;
}

export interface Summary {
  deliveries: number;
  success: number;
  failure: number;
  deferral: number;
  done: number;
  left: number;
}

export interface Msg {
  readonly id: number;
  readonly birth: number;
  readonly sender: string;
  readonly pending: Set<Channel>;
  completing: boolean;
  /** A hold or delete mark (qm-qctl(8)): no pass is opened. */
  held?: boolean;
  /** Deleted by qm qctl while deliveries were under way: their results touch no file (the inode may be a new message's by then). */
  forgotten?: boolean;
  /** queue/dsn/ as known: parameters, the delay warning's flag, successes to report. */
  dsn?: DsnState;
  /** A delay warning is being queued: completion waits for it (it reads the mess file). */
  warning?: boolean;
  /** The message finished while its delay warning was being queued: complete it when that is done. */
  completeAfterWarning?: boolean;
}
export interface Pass {
  readonly msg: Msg;
  readonly chan: Channel;
  readonly records: ChannelRecord[];
  next: number;
  inflight: number;
  deferred: boolean;
  finished: boolean;
  removed: boolean; // the channel file is gone: every record is done
  readonly dying: boolean;
  readonly retryAt: number;
  /** When the pass was opened (seconds), the status record's last try. */
  readonly startedAt: number;
  /** Deferred recipients and their report text, for the status record (queue/defer/). */
  readonly deferrals: { addr: string; error: string }[];
  /** Stopped for a qm qctl change: finishing it touches nothing; the message is read again from disk. */
  abandoned?: boolean;
}
export interface Slot {
  readonly pass: Pass;
  readonly rec: ChannelRecord;
  readonly d: number;
  /** The unit of the channel's concurrency it counts under (remote: one SMTP transaction). */
  readonly unit: Unit;
}
/** One unit of a channel's concurrency: a local delivery, or a remote transaction, whose recipients share it; free when none is left. */
export interface Unit {
  left: number;
}
