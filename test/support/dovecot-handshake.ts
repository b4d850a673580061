// Replays the lines of a Dovecot auth server's handshake through the pure
// client (core/lib/smtpd/dovecot.ts), for its unit and fuzz tests.
import { handshakeLine, NEW_HANDSHAKE, type Handshake } from "../../core/lib/smtpd/dovecot.ts";

export function shake(lines: readonly string[]): Handshake | { error: string } {
  let h: Handshake | { error: string } = NEW_HANDSHAKE;
  for (const l of lines) {
    if ("error" in h) return h;
    h = handshakeLine(h, l);
  }
  return h;
}
