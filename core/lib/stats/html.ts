/**
 * `qm stats --html`: one self-contained page (qm-stats(8)). The report's data
 * is a JSON block; the charting library uPlot (MIT, from npm, passed in as
 * `assets` by core/io/stats/page.ts) is inlined with its CSS, so the page
 * fetches nothing and works offline. Each chart, once drawn, marks its box
 * `data-drawn="1"`; a chart that throws says so in its box.
 */
import type { Report } from "./report.ts";

export interface Assets { readonly js: string; readonly css: string }

/** The chart boxes, in page order: id and title. */
export const CHARTS: readonly (readonly [string, string])[] = [
  ["flow", "Messages in and out"],
  ["queue", "Messages in the queue"],
  ["delay", "Delivery delay (queued to done)"],
  ["domains", "Outcomes by destination domain"],
  ["rejects", "SMTP rejects by reason"],
];

/** Text made safe inside HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that can sit inside a <script> element: no "<", nothing above ASCII. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function summary(r: Report): string {
  const d = r.deliveries;
  const rows: [string, string][] = [
    ["period", `${r.from ?? "?"} to ${r.until ?? "?"}`],
    ["messages in / done", `${r.messages.in} / ${r.messages.out} (${r.messages.bounces} bounces, ${r.messages.bytes} bytes)`],
    ["recipients", String(r.recipients)],
    ["local: success / failure / deferral", `${d.local.success} / ${d.local.failure} / ${d.local.deferral + d.local.mangled}`],
    ["remote: success / failure / deferral", `${d.remote.success} / ${d.remote.failure} / ${d.remote.deferral + d.remote.mangled}`],
    ["delay local p50 / p90 / p99 / max (s)", [r.delay.local.p50, r.delay.local.p90, r.delay.local.p99, r.delay.local.max].map((x) => x.toFixed(3)).join(" / ")],
    ["delay remote p50 / p90 / p99 / max (s)", [r.delay.remote.p50, r.delay.remote.p90, r.delay.remote.p99, r.delay.remote.max].map((x) => x.toFixed(3)).join(" / ")],
    ["SMTP sessions (TLS)", `${r.smtp.sessions} (${(r.smtp.tlsShare * 100).toFixed(1)}%), ${r.smtp.authFailed} failed AUTH`],
  ];
  return `<table class="sum">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>`;
}

// The page's own script: plain ES2017, run by the browser. It reads the JSON block and draws each chart with uPlot.
const DRAW = String.raw`
(function () {
  var r = JSON.parse(document.getElementById("qm-data").textContent);
  var W = Math.min(960, document.body.clientWidth - 20), H = 260;
  function cats(names) { return { splits: function () { return names.map(function (_, i) { return i; }); }, values: function (u, splits) { return splits.map(function (i) { return names[i] === undefined ? "" : names[i]; }); }, size: 40 }; }
  function span(x) { var s = r.series.step * 60; return { x: { range: [x[0] - s, x[x.length - 1] + s] } }; }
  function bars(label, color) { return { label: label, fill: color, stroke: color, paths: uPlot.paths.bars({ size: [0.6, 60] }) }; }
  function time() { var x = [], i; for (i = 0; i < r.series.in.length; i++) x.push((r.series.start + i * r.series.step * 60000) / 1000); return x.length ? x : [Date.now() / 1000]; }
  function pad(a) { return a.length ? a : [0]; }
  var charts = {
    flow: function () { return [{ scales: span(time()), series: [{}, { label: "in per " + r.series.step + " min", stroke: "#1f77b4" }, { label: "done per " + r.series.step + " min", stroke: "#2ca02c" }] }, [time(), pad(r.series.in), pad(r.series.out)]]; },
    queue: function () { return [{ scales: span(time()), series: [{}, { label: "queued", stroke: "#d62728", fill: "rgba(214,39,40,0.1)" }] }, [time(), pad(r.series.queue)]]; },
    delay: function () {
      var names = r.histogram.bounds.map(function (b, i) { return b === null ? ">" + r.histogram.bounds[i - 1] + "s" : "<=" + b + "s"; });
      return [{ scales: { x: { time: false, range: [-0.5, names.length - 0.5] } }, axes: [cats(names), {}], series: [{}, bars("deliveries", "#9467bd")] }, [names.map(function (_, i) { return i; }), r.histogram.counts]];
    },
    domains: function () {
      var rows = r.domains.slice(0, 15); if (!rows.length) rows = [{ domain: "(none)", success: 0, failure: 0, deferral: 0, mangled: 0 }];
      var x = rows.map(function (_, i) { return i; });
      var ok = rows.map(function (d) { return d.success; }), fail = rows.map(function (d) { return d.success + d.failure; }), all = rows.map(function (d) { return d.success + d.failure + d.deferral + d.mangled; });
      return [{ scales: { x: { time: false, range: [-0.5, rows.length - 0.5] } }, axes: [cats(rows.map(function (d) { return d.domain; })), {}],
        series: [{}, bars("deferral", "#ff7f0e"), bars("failure", "#d62728"), bars("success", "#2ca02c")] }, [x, all, fail, ok]];
    },
    rejects: function () {
      var rows = r.smtp.rejects.slice(0, 10); if (!rows.length) rows = [{ key: "(none)", count: 0 }];
      return [{ scales: { x: { time: false, range: [-0.5, rows.length - 0.5] } }, axes: [cats(rows.map(function (d, i) { return r.smtp.rejects.length ? String(i + 1) : d.key; })), {}], series: [{}, bars("rejects", "#8c564b")] },
        [rows.map(function (_, i) { return i; }), rows.map(function (d) { return d.count; })]];
    }
  };
  Object.keys(charts).forEach(function (id) {
    var box = document.getElementById(id);
    try {
      var c = charts[id](), opts = c[0];
      opts.width = W; opts.height = H;
      opts.hooks = { draw: [function () { box.setAttribute("data-drawn", "1"); }] };
      new uPlot(opts, c[1], box.querySelector(".plot"));
    } catch (e) {
      box.querySelector(".plot").textContent = "This chart could not be drawn: " + e;
    }
  });
})();
`;

export function renderHtml(r: Report, assets: Assets): string {
  const legend = `<ol class="legend">${r.smtp.rejects.slice(0, 10).map((x) => `<li>${escapeHtml(x.key)} (${x.count})</li>`).join("")}</ol>`;
  const boxes = CHARTS.map(([id, title]) => `<section class="chart" id="${id}"><h2>${escapeHtml(title)}</h2><div class="plot"></div>${id === "rejects" ? legend : ""}</section>`).join("\n");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>qm stats ${escapeHtml(r.from ?? "")}</title>
<style>${assets.css}
body{font:14px sans-serif;margin:10px;max-width:1000px}table.sum th{text-align:left;padding-right:1em;font-weight:normal;color:#555}h2{font-size:16px;margin:18px 0 4px}</style>
</head><body>
<h1>qm stats</h1>
${summary(r)}
${boxes}
<script type="application/json" id="qm-data">${scriptJson(r)}</script>
<script>${assets.js}</script>
<script>${DRAW}</script>
</body></html>
`;
}
