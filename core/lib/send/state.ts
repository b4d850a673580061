/**
 * The queue manager's bookkeeping types (qmail-send's job table): a message
 * known to send, a pass over one of its channel files, a delivery in flight;
 * and what the queue store tells it about a message.
 */
import type { BounceControls } from "./bounce.ts";
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
}

/** A message found in info/ at start-up. */
export interface KnownMessage {
  readonly id: number;
  readonly birth: number; // Unix seconds: mtime of info
  readonly sender: string;
  /** Next retry per channel that has a file (its mtime), seconds. */
  readonly channels: ReadonlyMap<Channel, number>;
}

/** The control files `qm send` runs on. */
export interface SendControls {
  readonly me: string;
  readonly rules: RewriteRules;
  readonly bounce: BounceControls;
  readonly concurrency: Readonly<Record<Channel, number>>;
  readonly lifetime: number;
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
}
export interface Slot {
  readonly pass: Pass;
  readonly rec: ChannelRecord;
  readonly d: number;
}
