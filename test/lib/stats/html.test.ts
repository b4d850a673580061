import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CHARTS, escapeHtml, renderHtml, scriptJson } from "../../../core/lib/stats/html.ts";
import { parseLine } from "../../../core/lib/stats/line.ts";
import { addEvent, newTally } from "../../../core/lib/stats/tally.ts";
import { makeReport } from "../../../core/lib/stats/report.ts";

const HOSTILE = "</script><script>alert(1)</script>";

function report() {
  const t = newTally();
  for (const l of [`2026-12-06T14:00:00.000Z starting delivery 1: msg 1 to remote x@${HOSTILE}`, "2026-12-06T14:00:01.000Z delivery 1: failure: <b>no</b>/",
    `2026-12-06T14:00:02.000Z smtpd: 1.1 refused 10.0.0.1 RCPT <a@b>: 553 5.7.1 ${HOSTILE}`]) {
    const p = parseLine(l, 2026);
    addEvent(t, p.event, p.ms);
  }
  return makeReport(t);
}

describe("renderHtml()", () => {
  it("puts every chart box, the data and the library in one page that loads nothing", () => {
    const page = renderHtml(report(), { js: "var uPlot = function () {};", css: ".uplot{}" });
    for (const [id] of CHARTS) assert.match(page, new RegExp(`<section class="chart" id="${id}">`));
    assert.match(page, /var uPlot = function \(\) \{\};/);
    assert.doesNotMatch(page, /\b(?:src|href)=/i, "no file or URL fetched");
    assert.doesNotMatch(page, /https?:\/\//);
  });
  it("keeps text from the log from ending a script or adding markup", () => {
    const page = renderHtml(report(), { js: "", css: "" });
    assert.equal(page.split("</script>").length - 1, 3, "the data block, the library, the drawing script");
    assert.doesNotMatch(page, /<script>alert|<b>no/);
    assert.match(page, /&#60;\/script&#62;&#60;script&#62;alert\(1\)/, "the reject's reason, escaped in the legend");
  });
});

describe("escapeHtml() and scriptJson()", () => {
  it("escape what HTML and a script element would read", () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
    assert.equal(scriptJson({ a: "</script>\u2028é" }), String.raw`{"a":"\u003c/script\u003e\u2028\u00e9"}`);
    assert.deepEqual(JSON.parse(scriptJson({ a: "</script>\u2028é" })), { a: "</script>\u2028é" });
  });
});
