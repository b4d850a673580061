/**
 * The control socket, queue/lock/control/qctl (qm-qctl(8)): a running
 * `qm send` listens on it and `qm qctl` asks it to change the queue. Node
 * cannot read a unix socket peer's credentials, so the file system decides
 * who may connect: the socket sits in a directory of mode 0700 owned by the
 * queue's owner (the one qm send runs as), and is itself mode 0600; connect()
 * needs search permission on the directory and write permission on the
 * socket, so only that user and root get through, and everyone else gets
 * EACCES, which askControl() turns into a clear refusal.
 */
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { decodeReply, decodeRequest, encodeReply, encodeRequest, MAX_REPLY, MAX_REQUEST, type Reply } from "../../lib/queue/control-wire.ts";
import type { QctlCommand } from "../../lib/queue/qctl.ts";
import { ok, perm, temp, type Result } from "../../lib/base/result.ts";
import { errText } from "../base/errno.ts";

export function controlPath(queue: string): string {
  return join(queue, "lock", "control", "qctl");
}

/** A client that says nothing for this long is dropped. */
const IDLE_MS = 30_000;

export interface ControlServer {
  close(): void;
}

/**
 * Listens on the control socket (a stale one, left by a killed queue
 * manager, is removed: the caller holds the send mutex). Requests are handled
 * one at a time, in the order they arrive.
 */
export function listenControl(queue: string, handle: (cmd: QctlCommand) => Promise<Reply>): Promise<Result<ControlServer>> {
  const path = controlPath(queue);
  const dir = join(queue, "lock", "control");
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as { code?: string }).code !== "EEXIST") return Promise.resolve(temp(`unable to make lock/control: ${errText(err)}`));
  }
  try {
    const st = lstatSync(dir);
    const me = process.getuid?.() ?? st.uid;
    if (!st.isDirectory() || st.uid !== me) return Promise.resolve(temp("lock/control is not a directory of the queue manager's user"));
    chmodSync(dir, 0o700);
    unlinkSync(path);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") return Promise.resolve(temp(`unable to prepare lock/control: ${errText(err)}`));
  }
  let chain: Promise<unknown> = Promise.resolve();
  const inTurn = (cmd: QctlCommand): Promise<Reply> => {
    const p = chain.then(() => handle(cmd));
    chain = p.catch(() => {});
    return p;
  };
  const server: Server = createServer((sock) => serve(sock, inTurn));
  return new Promise((resolve) => {
    server.once("error", (err) => resolve(temp(`unable to listen on lock/control/qctl: ${errText(err)}`)));
    server.listen(path, () => {
      try {
        chmodSync(path, 0o600);
      } catch (err) {
        server.close();
        return resolve(temp(`unable to chmod lock/control/qctl: ${errText(err)}`));
      }
      server.unref();
      resolve(ok({ close: () => void server.close() }));
    });
  });
}

function serve(sock: Socket, handle: (cmd: QctlCommand) => Promise<Reply>): void {
  let buf = "";
  let done = false;
  sock.setEncoding("latin1");
  sock.setTimeout(IDLE_MS, () => sock.destroy());
  sock.on("error", () => {});
  const answer = (r: Reply) => {
    done = true;
    sock.end(encodeReply(r));
  };
  sock.on("data", (chunk: string) => {
    if (done) return;
    buf += chunk;
    const nl = buf.indexOf("\n");
    if (nl < 0) {
      if (buf.length > MAX_REQUEST) answer({ code: 100, out: "", err: "Request too long" });
      return;
    }
    const cmd = decodeRequest(buf.slice(0, nl));
    if (cmd.kind !== "ok") return answer({ code: 100, out: "", err: cmd.reason });
    done = true;
    sock.setTimeout(0);
    handle(cmd.value).then(
      (r) => sock.end(encodeReply(r)),
      (err: unknown) => sock.end(encodeReply({ code: 111, out: "", err: `The queue manager failed: ${errText(err)}` })),
    );
  });
}

export type Asked = { readonly kind: "absent" } | { readonly kind: "reply"; readonly reply: Reply };

/**
 * Sends one request to the running queue manager. "absent" when nobody
 * listens (no qm send, or one that predates the socket); a refusal of the
 * socket's permissions is permanent; a lost or late answer is temporary.
 */
export function askControl(queue: string, argv: readonly string[], timeoutMs = 120_000): Promise<Result<Asked>> {
  return new Promise((resolve) => {
    const sock = createConnection(controlPath(queue));
    let buf = "";
    let settled = false;
    const finish = (r: Result<Asked>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish(temp("The queue manager did not answer in time; the change may still be made")), timeoutMs);
    sock.setEncoding("latin1");
    sock.on("connect", () => sock.write(encodeRequest(argv)));
    sock.on("data", (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REPLY) finish(temp("The queue manager's reply is too long"));
    });
    sock.on("end", () => {
      const line = buf.endsWith("\n") ? buf.slice(0, -1) : null;
      if (line === null) return finish(temp("The queue manager closed the connection without an answer"));
      const r = decodeReply(line);
      finish(r.kind === "ok" ? ok({ kind: "reply", reply: r.value }) : r);
    });
    sock.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ECONNREFUSED" || err.code === "ENOTDIR") return finish(ok({ kind: "absent" }));
      if (err.code === "EACCES" || err.code === "EPERM") return finish(perm(REFUSED, "5.7.1"));
      finish(temp(`unable to reach the queue manager: ${errText(err)}`));
    });
  });
}

const REFUSED = "Permission denied: only root and the queue's owner may change the queue";

/** Whether this process may change the queue at all: root or the owner of queue/. */
export function mayControl(queue: string): Result<void> {
  const me = process.getuid?.() ?? 0;
  try {
    if (me === 0 || statSync(queue).uid === me) return ok(undefined);
  } catch (err) {
    return temp(`unable to stat the queue: ${errText(err)}`);
  }
  return perm(REFUSED, "5.7.1");
}
