/**
 * What goes into the queue manager (events) and what comes out (effects),
 * machine.ts's whole interface with the world. The runner (core/prog/send.ts)
 * performs each effect when it is emitted, in order; the crash-safety
 * argument is that order. Effects with an answer get it back at once (a
 * small synchronous system call); the slow ones (intake, fsyncs, injecting a
 * bounce, closing the spawners) answer later with an event.
 */
import type { Result } from "../base/result.ts";
import type { Channel, Routed } from "./rewrite.ts";
import type { Report } from "./spawn-wire.ts";
import type { ChannelRecord, KnownMessage, NewMessage, SendControls, Summary } from "./state.ts";
import type { NoticeJob } from "./notice.ts";
import type { DsnState } from "../queue/dsn.ts";

/** One deferred recipient of a pass, for the status record (core/lib/queue/status.ts's Attempt). */
export interface Attempt {
  readonly channel: Channel;
  readonly addr: string;
  readonly at: number; // s: the pass's start
  readonly next: number; // s: the next try
  readonly error: string;
}

/** sent: qp of the failure bounce, if there was one; notice: of the last other notice (delivered, relayed). */
export type Bounced = { readonly kind: "none" } | { readonly kind: "triple" } | { readonly kind: "sent"; readonly qp?: number; readonly notice?: number };

export type Event =
  | { readonly kind: "start" } // load the queue (info/ without todo/)
  | { readonly kind: "go" } // start deliveries and the first todo run
  | { readonly kind: "pull" } // the trigger, the rescan, a retry after a failure, a bounce queued
  | { readonly kind: "intake"; readonly warnings: readonly string[]; readonly taken?: readonly string[] } // maildrop/ taken in
  | { readonly kind: "released"; readonly r: Result<void> } // a todo batch made durable, its todo/ entries gone
  | { readonly kind: "report"; readonly chan: Channel; readonly report: Report }
  | { readonly kind: "bounced"; readonly id: number; readonly r: Result<Bounced> }
  | { readonly kind: "warned"; readonly id: number; readonly r: Result<{ readonly qp: number }> } // a delay warning queued (or not)
  | { readonly kind: "complete"; readonly id: number } // retry a message's completion
  | { readonly kind: "wake" } // the retry timer fired
  | { readonly kind: "cleanup" }
  | { readonly kind: "controls"; readonly r: Result<SendControls>; readonly changed: readonly string[] } // SIGHUP: every control file read again; the names of those that changed
  | { readonly kind: "alrm" }
  | { readonly kind: "term" }
  | { readonly kind: "grace" } // SIGTERM's grace period is over
  | { readonly kind: "lost"; readonly why: string } // a spawner died
  | { readonly kind: "closed" } // the spawners are closed
  | { readonly kind: "freeze"; readonly ids: readonly number[]; readonly del: boolean } // a qm qctl change is about to touch these (del: a delete)
  | { readonly kind: "resume"; readonly ids: readonly number[] }; // ... and has: read them again from disk

export type Effect =
  | { readonly kind: "log"; readonly line: string }
  | { readonly kind: "cleanPid" }
  | { readonly kind: "scanInfo" }
  | { readonly kind: "readKnown"; readonly id: number } // null: vanished, or still in todo/
  | { readonly kind: "cleanOrphans"; readonly known: (id: number) => boolean }
  | { readonly kind: "takeMaildrop" } // -> intake
  | { readonly kind: "scanTodo" }
  | { readonly kind: "preprocess"; readonly id: number; readonly route: (rcpt: string) => Routed } // writes info, local, remote
  | { readonly kind: "releaseTodo"; readonly ids: readonly number[] } // fsync the batch, unlink intd/ and todo/ -> released
  | { readonly kind: "readChannel"; readonly chan: Channel; readonly id: number }
  | { readonly kind: "spawn"; readonly chan: Channel; readonly slot: number; readonly id: number; readonly sender: string; readonly recipient: string }
  | { readonly kind: "appendBounce"; readonly id: number; readonly paragraph: string } // fsynced
  | { readonly kind: "markDone"; readonly chan: Channel; readonly id: number; readonly offset: number }
  | { readonly kind: "removeChannel"; readonly chan: Channel; readonly id: number }
  | { readonly kind: "setRetry"; readonly chan: Channel; readonly id: number; readonly at: number }
  | { readonly kind: "readBounce"; readonly id: number }
  | { readonly kind: "submitBounce"; readonly id: number; readonly jobs: readonly NoticeJob[] } // each: head + mess + tail, in order -> bounced
  | { readonly kind: "submitWarning"; readonly id: number; readonly job: NoticeJob } // a delay warning -> warned
  | { readonly kind: "appendDsn"; readonly id: number; readonly line: string } // a success to report, fsynced (before its D mark)
  | { readonly kind: "writeDsn"; readonly id: number; readonly state: DsnState } // the delay warning went out: durable
  | { readonly kind: "removeBounce"; readonly id: number }
  | { readonly kind: "noteDeferrals"; readonly id: number; readonly birth: number; readonly attempts: readonly Attempt[] } // the status record, queue/defer/
  | { readonly kind: "clearMark"; readonly id: number } // the status record and the hold mark go, while mess/ still holds the inode
  | { readonly kind: "finishMessage"; readonly id: number } // unlink mess, intd, then info
  | { readonly kind: "timer"; readonly ms: number | null } // the one retry timer, re-armed or cleared
  | { readonly kind: "after"; readonly ms: number; readonly event: Event } // a one-shot timer that keeps nothing alive
  | { readonly kind: "defer"; readonly event: Event } // the event, after the current step
  | { readonly kind: "shutdown"; readonly graceMs: number } // timers and trigger off, spawners closed -> closed
  | { readonly kind: "exit"; readonly result: Result<Summary> };

/** The answers of the effects that have one. */
export interface Answers {
  scanInfo: Result<number[]>;
  readKnown: Result<KnownMessage | null>;
  scanTodo: Result<number[]>;
  preprocess: Result<NewMessage>;
  readChannel: Result<ChannelRecord[]>;
  appendBounce: Result<void>;
  appendDsn: Result<void>;
  writeDsn: Result<void>;
  markDone: Result<void>;
  removeChannel: Result<void>;
  readBounce: Result<string | null>;
  noteDeferrals: Result<void>;
  clearMark: Result<void>;
  finishMessage: Result<void>;
}
export type Answer<K extends Effect["kind"]> = K extends keyof Answers ? Answers[K] : void;
/** Performs one effect, now, and returns its answer. */
export type Emit = <E extends Effect>(e: E) => Answer<E["kind"]>;
