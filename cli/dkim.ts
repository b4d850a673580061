import { defineCommand } from "./_command.ts";
import { dkim } from "../core/prog/dkim.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  args: {
    type: { type: "string", description: "keygen: rsa (default) or ed25519" },
    bits: { type: "string", description: "keygen: RSA key size, default 2048" },
  },
  async run({ args }) {
    const lines: string[] = [];
    const r = await dkim(qmHome(), args._.map(String), { type: args.type, bits: args.bits, out: (l) => lines.push(l) });
    process.stdout.write(lines.map((l) => `${l}\n`).join(""), () => exitWith(r, "qm dkim"));
  },
});
