import { createConnection } from "node:net";
import { authReply, authRequest, handshakeLine, hello, MAX_DOVECOT_BYTES, MAX_DOVECOT_LINE, NEW_HANDSHAKE, type AuthInfo, type DovecotVerdict, type Handshake } from "../../lib/smtpd/dovecot.ts";
import { errText } from "../base/errno.ts";

/**
 * Asks Dovecot's auth service (control/dovecotauth: the path of one of its
 * auth unix_listeners) whether `user` has password `pass`: one connection
 * per question, the handshake, one PLAIN request, its answer. Anything but
 * a clear OK or FAIL (no socket, a refused connection, a broken or too long
 * reply, no answer within the time limit) is a temporary failure.
 */
export function dovecotCheck(socket: string, user: string, pass: string, info: AuthInfo, timeoutMs = 30_000): Promise<DovecotVerdict> {
  return new Promise((resolve) => {
    const id = 1;
    let h: Handshake = NEW_HANDSHAKE;
    let buf = "";
    let total = 0;
    let settled = false;
    const sock = createConnection({ path: socket });
    const finish = (v: DovecotVerdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish({ kind: "temp", reason: `no answer from Dovecot's auth service at ${socket} within ${timeoutMs / 1000} s` }), timeoutMs);
    sock.setEncoding("latin1");
    sock.on("connect", () => sock.write(hello(process.pid), "latin1"));
    sock.on("error", (err) => finish({ kind: "temp", reason: `cannot talk to Dovecot's auth service at ${socket}: ${errText(err)}` }));
    sock.on("close", () => finish({ kind: "temp", reason: `Dovecot's auth service at ${socket} closed the connection` }));
    sock.on("data", (chunk: string) => {
      total += chunk.length;
      buf += chunk;
      if (total > MAX_DOVECOT_BYTES) return finish({ kind: "temp", reason: "Dovecot's auth service sent too much" });
      for (let nl = buf.indexOf("\n"); nl >= 0 && !settled; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!h.done) {
          const next = handshakeLine(h, line);
          if ("error" in next) return finish({ kind: "temp", reason: next.error });
          h = next;
          if (h.done) sock.write(authRequest(id, user, pass, info), "latin1");
        } else {
          const v = authReply(id, line);
          if (v) return finish(v);
        }
      }
      if (buf.length > MAX_DOVECOT_LINE) finish({ kind: "temp", reason: "Dovecot's auth service sent a line too long" });
    });
  });
}
