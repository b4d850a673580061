// Every page in man/ renders, is free of warnings under `mandoc -T lint`, and
// every subcommand and file format has a page.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "../cli/commands.ts";
import { ROOT } from "./support/qm.ts";

const MAN = join(ROOT, "man");
const PAGES = readdirSync(MAN).filter((f) => /\.[1-9]$/.test(f)).sort();
const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`], { timeout: 60_000 }).status === 0;
const NO_MANDOC = has("mandoc") ? false : "mandoc is not installed (Debian package mandoc)";
const NO_MAN = has("man") ? false : "man is not installed (Debian package man-db)";

/** Every subcommand, from the table cli/qm.ts runs from (inject included: it is loaded differently, not listed differently). */
const SUBCOMMANDS = COMMANDS.map((c) => c.name);
/** The names a page's NAME section gives: `.Nm qm send` or `.Nm "qm send"`. */
function namesIn(page: string): string[] {
  const text = readFileSync(join(MAN, page), "utf8");
  const name = /^\.Sh NAME\n([\s\S]*?)^\.Nd /m.exec(text)?.[1] ?? "";
  return [...name.matchAll(/^\.Nm "?qm ([a-z][a-z0-9-]*)"?/gm)].map((m) => m[1]!);
}

describe("man/", { timeout: 120_000 }, () => {
  it("holds pages", () => assert.ok(PAGES.length >= 3, PAGES.join(" ")));

  for (const page of PAGES) {
    it(`${page} is clean under mandoc -T lint -W warning`, { skip: NO_MANDOC }, () => {
      const r = spawnSync("mandoc", ["-T", "lint", "-W", "warning", join(MAN, page)], { encoding: "utf8", timeout: 60_000 });
      assert.equal(`${r.stdout}${r.stderr}`, "");
      assert.equal(r.status, 0);
    });
    it(`${page} renders with man -l`, { skip: NO_MAN }, () => {
      const r = spawnSync("man", ["-l", join(MAN, page)], { encoding: "utf8", env: { ...process.env, MANPAGER: "cat", PAGER: "cat", MANWIDTH: "80" }, timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^NAME$/m);
      assert.match(r.stdout, /^DESCRIPTION$/m);
    });
    it(`${page} is titled after its file name`, () => {
      const [, name, section] = /^(.*)\.(\d)$/.exec(page)!;
      const dt = /^\.Dt (\S+) (\d)$/m.exec(readFileSync(join(MAN, page), "utf8"));
      assert.deepEqual(dt?.slice(1), [name!.toUpperCase(), section]);
    });
  }

  it("reads a table that holds every subcommand, inject among them", () => {
    assert.ok(SUBCOMMANDS.length >= 20 && SUBCOMMANDS.includes("inject"), SUBCOMMANDS.join(" "));
  });

  it("has a page naming every subcommand in cli/commands.ts", () => {
    const named = new Set(PAGES.flatMap(namesIn));
    const missing = SUBCOMMANDS.filter((s) => !named.has(s));
    assert.deepEqual(missing, [], `subcommands without a page: ${missing.join(" ")}`);
  });

  it("lists every subcommand in qm(8)", () => {
    const text = readFileSync(join(MAN, "qm.8"), "utf8");
    const listed = new Set([...text.matchAll(/^\.It Cm (\S+)$/gm)].map((m) => m[1]!));
    assert.deepEqual(SUBCOMMANDS.filter((s) => !listed.has(s)), []);
  });

  it("has a page for every file format", () => {
    const FORMATS = ["qm-control.5", "dot-qmail.5", "qm-users.5", "qm-aliases.5", "qm-queue.5", "qm-smtpd-rules.5"];
    assert.deepEqual(FORMATS.filter((f) => !existsSync(join(MAN, f))), []);
  });

  it("has every qm page that a page refers to", () => {
    const dangling: string[] = [];
    for (const page of PAGES) {
      const text = readFileSync(join(MAN, page), "utf8");
      for (const m of text.matchAll(/^\.Xr ((?:qm|dot-qmail)[a-z0-9-]*) (\d)/gm)) {
        if (!existsSync(join(MAN, `${m[1]}.${m[2]}`))) dangling.push(`${page}: ${m[1]}(${m[2]})`);
      }
    }
    assert.deepEqual([...new Set(dangling)], []);
  });
});
