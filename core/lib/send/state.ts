/**
 * The queue manager's bookkeeping types (qmail-send's job table): a message
 * known to send, a pass over one of its channel files, a delivery in flight.
 */
import type { Channel } from "./rewrite.ts";

/** One T/D record of a channel file and its byte offset (the checkpoint's target). */
export interface ChannelRecord {
  readonly offset: number;
  readonly addr: string;
  readonly done: boolean;
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
