/**
 * uPlot (MIT, npm "uplot", a dependency for this only): the charting library
 * `qm stats --html` inlines into its page, so the page needs no network. In
 * the standalone binary the bundler embeds the two files as text (the import
 * attribute); run from source, they are read from node_modules.
 * writePage() puts the page in place whole (a temporary file, then rename).
 */
import { readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import type { Assets } from "../../lib/stats/html.ts";
import { ok, type Result } from "../../lib/base/result.ts";
import { fromErrno } from "../base/errno.ts";

function fromModules(spec: string): string {
  return readFileSync(new URL(import.meta.resolve(spec)), "utf8");
}

export async function loadUplot(): Promise<Assets> {
  const [js, css] = await Promise.all([
    import("uplot/dist/uPlot.iife.min.js", { with: { type: "text" } }).then((m: { default: unknown }) => String(m.default), () => fromModules("uplot/dist/uPlot.iife.min.js")),
    import("uplot/dist/uPlot.min.css", { with: { type: "text" } }).then((m: { default: unknown }) => String(m.default), () => fromModules("uplot/dist/uPlot.min.css")),
  ]);
  if (/<\/(script|style)/i.test(js + css)) throw new Error("uPlot's files would end the page's script or style element"); // a bug in a new version, not a runtime failure
  return { js, css };
}

export async function writePage(path: string, html: string): Promise<Result<true>> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, html, "utf8");
    await rename(tmp, path);
    return ok(true);
  } catch (err) {
    return fromErrno(err, `Unable to write ${path}`);
  }
}
