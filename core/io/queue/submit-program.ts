// submit() through $QMAILQUEUE: its own module, loaded only when that variable is set.
import { constants } from "node:fs";
import { open, unlink } from "node:fs/promises";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeEnvelope, type Envelope } from "../../lib/queue/envelope.ts";
import { qqFail } from "../../lib/queue/codes.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { fromErrno } from "../base/errno.ts";
import { randomHex, type Message } from "./maildrop.ts";

/**
 * qmail.c's client side: message on the child's fd 0, envelope on its fd 1,
 * its exit code decides. fd 1 is an unlinked temporary file rather than a
 * pipe (Bun and Deno give a child's fd 1 no write side): the envelope is
 * written into it with pwrite only after the whole message went through, so
 * a message cut short meets an empty envelope and is never queued.
 */
export async function runQueueProgram(program: string, message: Message, env: Envelope): Promise<Result<{ qp: number }>> {
  const path = join(tmpdir(), `qm-envelope.${process.pid}.${randomHex()}`);
  let fh;
  try {
    fh = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    await unlink(path);
  } catch (err) {
    return fromErrno(err, "Unable to create the envelope file for the queue program");
  }
  try {
    return await new Promise((resolve) => {
      // our working directory, as qmail's callers leave theirs: the queue program finds its queue itself
      const child = spawn(program, [], { stdio: ["pipe", fh.fd, "inherit"] });
      let complete = false;
      child.on("error", () => resolve(qqFail(120)));
      child.on("close", (code, signal) => {
        if (signal || code === null) return resolve(temp("Queue program crashed", "4.3.0"));
        if (code !== 0) return resolve(qqFail(code));
        resolve(complete ? ok({ qp: child.pid ?? 0 }) : temp("Unable to read the message for the queue program", "4.3.0"));
      });
      const stdin = child.stdin!;
      stdin.on("error", () => {});
      void (async () => {
        try {
          if (message instanceof Uint8Array) stdin.write(message);
          else for await (const chunk of message) if (!stdin.write(chunk)) await new Promise((r) => stdin.once("drain", r));
          const bytes = encodeEnvelope(env);
          await fh.write(bytes, 0, bytes.length, 0); // pwrite: the child's shared offset stays at 0
          complete = true;
        } catch {
          // the message failed: the child reads an empty envelope and exits 54
        }
        stdin.end();
      })();
    });
  } finally {
    await fh.close().catch(() => {});
  }
}
