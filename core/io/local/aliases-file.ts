import { readFile } from "node:fs/promises";
import type { AliasDefaults } from "../../lib/local/aliases.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { readControlLine } from "../base/control.ts";
import { errText } from "../base/errno.ts";

/** The aliases file: the argument, else control/aliases, else /etc/aliases. The cdb is that path + ".cdb". */
export async function aliasesPath(qmhome: string, arg: string | undefined): Promise<Result<string>> {
  if (arg) return ok(arg);
  const r = await readControlLine(qmhome, "aliases", "/etc/aliases");
  return r.kind === "ok" ? ok(r.value ?? "/etc/aliases") : r;
}

/** me / defaulthost / defaultdomain / plusdomain as newaliases reads them. */
export async function aliasDefaults(qmhome: string): Promise<Result<AliasDefaults>> {
  const me = await readControlLine(qmhome, "me", "me");
  if (me.kind !== "ok") return me;
  const get = async (name: string): Promise<Result<string>> => {
    const r = await readControlLine(qmhome, name, me.value);
    return r.kind === "ok" ? ok(r.value ?? "me") : r;
  };
  const [h, d, p] = [await get("defaulthost"), await get("defaultdomain"), await get("plusdomain")];
  if (h.kind !== "ok") return h;
  if (d.kind !== "ok") return d;
  if (p.kind !== "ok") return p;
  return ok({ defaultHost: h.value, defaultDomain: d.value, plusDomain: p.value });
}

/** For qm fastforward: the compiled cdb (FILE.cdb, or the given .cdb path) and the address defaults. */
export async function loadAliases(qmhome: string, cdbArg?: string): Promise<Result<{ cdb: Uint8Array; defaults: AliasDefaults }>> {
  const path = await aliasesPath(qmhome, undefined);
  if (path.kind !== "ok") return path;
  const file = cdbArg ?? `${path.value}.cdb`;
  const defaults = await aliasDefaults(qmhome);
  if (defaults.kind !== "ok") return defaults;
  try {
    return ok({ cdb: new Uint8Array(await readFile(file)), defaults: defaults.value });
  } catch (err) {
    return temp(`Unable to read ${file}: ${errText(err)}`, "4.3.0");
  }
}
