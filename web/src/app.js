// Nansen's page script. Pages work without it: it draws the charts and maps from the data
// each figure carries, shows upload progress, and reloads pages that wait on the server.
import * as echarts from "echarts/core";
import { LineChart, BarChart, MapChart, SankeyChart } from "echarts/charts";
import { GridComponent, TooltipComponent, LegendComponent, VisualMapComponent, AriaComponent, GeoComponent } from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([LineChart, BarChart, MapChart, SankeyChart, GridComponent, TooltipComponent, LegendComponent, VisualMapComponent, AriaComponent, GeoComponent, SVGRenderer]);

// Colour-blind-safe categorical palette (Okabe and Ito), dark enough on white.
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C6D1F"];
const fmt = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 2 });
const number = (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : fmt.format(v));
// Tooltips are HTML: every name and label in them comes from data somebody uploaded.
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

let worldPromise = null;
function world() {
  if (!worldPromise) {
    worldPromise = fetch("/assets/world.json").then((r) => {
      if (!r.ok) throw new Error("no map geometry");
      return r.json();
    }).then((geo) => {
      echarts.registerMap("world", geo);
      return geo;
    });
  }
  return worldPromise;
}

function base() {
  return { color: PALETTE, aria: { enabled: true }, animation: false, textStyle: { fontFamily: "system-ui, sans-serif", color: "#1b1f24" } };
}

// Periods the data covers only in part are starred on the axis and drawn hollow; aggregates
// (EU28 beside its members) are dashed lines or hatched, pale bars, so nobody reads them as
// one more member to add.
function lineOrBar(spec) {
  const incomplete = new Set(spec.incomplete || []);
  const aggregates = new Set(spec.aggregates || []);
  const point = (v, i) => {
    const x = spec.x[i];
    if (spec.kind === "bar" && aggregates.has(x)) return { value: v, itemStyle: { opacity: 0.45, decal: { symbol: "rect", dashArrayX: [1, 0], dashArrayY: [3, 3], rotation: Math.PI / 4 } } };
    if (spec.kind !== "bar" && incomplete.has(x)) return { value: v, symbol: "emptyCircle", symbolSize: 9, itemStyle: { borderType: "dashed" } };
    return v;
  };
  return {
    ...base(),
    tooltip: { trigger: "axis", valueFormatter: number },
    legend: { type: "scroll", top: 0 },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    xAxis: {
      type: "category", data: spec.x,
      axisLabel: { color: "#1b1f24", formatter: (x) => (incomplete.has(x) ? `${x}*` : x), ...(spec.kind === "bar" ? { interval: 0, rotate: spec.x.length > 4 ? 30 : 0 } : {}) },
    },
    yAxis: { type: "value", axisLabel: { color: "#1b1f24", formatter: (v) => fmt.format(v) } },
    series: spec.series.map((s) => ({
      name: s.name, type: spec.kind, data: s.data.map(point), connectNulls: false,
      showSymbol: spec.x.length < 40 || incomplete.size > 0,
      ...(s.aggregate && spec.kind !== "bar" ? { lineStyle: { type: "dashed", width: 2.5 } } : {}),
    })),
  };
}

// History, forecast with its interval as a shaded band, and marked periods (alerts, the
// expected value and the alarm threshold). Series styles: line, dashed, points, band-base
// (the interval's lower bound, invisible) and band (its width, shaded, labelled lo – hi).
function fan(spec) {
  const style = {
    line: {},
    dashed: { lineStyle: { type: "dashed" } },
    points: { lineStyle: { opacity: 0 }, showSymbol: true, symbolSize: 11, symbol: "diamond", z: 5 },
    "band-base": { stack: "band", lineStyle: { opacity: 0 }, showSymbol: false, silent: true },
    band: { stack: "band", lineStyle: { opacity: 0 }, showSymbol: false, areaStyle: { opacity: 0.25 } },
  };
  const row = (p) => {
    const s = spec.series[p.seriesIndex];
    if (s.style === "band-base" || p.value === null || p.value === undefined) return "";
    const text = s.labels ? s.labels[p.dataIndex] : number(p.value);
    return `${p.marker}${escapeHtml(p.seriesName)}: ${escapeHtml(text)}<br>`;
  };
  return {
    ...base(),
    tooltip: { trigger: "axis", formatter: (ps) => `${ps.length ? escapeHtml(ps[0].axisValue) : ""}<br>${ps.map(row).join("")}` },
    legend: { type: "scroll", top: 0, data: spec.series.filter((s) => s.style !== "band-base").map((s) => s.name) },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: spec.x, axisLabel: { color: "#1b1f24" } },
    yAxis: { type: "value", axisLabel: { color: "#1b1f24", formatter: (v) => fmt.format(v) } },
    series: spec.series.map((s) => ({ name: s.name, type: "line", data: s.data, connectNulls: false, showSymbol: false, ...(style[s.style] || {}) })),
  };
}

// The longitude and latitude box of some coordinates, nested to any depth.
function bounds(coordinates, box = [Infinity, Infinity, -Infinity, -Infinity]) {
  if (typeof coordinates[0] === "number") {
    box[0] = Math.min(box[0], coordinates[0]); box[1] = Math.min(box[1], coordinates[1]);
    box[2] = Math.max(box[2], coordinates[0]); box[3] = Math.max(box[3], coordinates[1]);
  } else coordinates.forEach((c) => bounds(c, box));
  return box;
}

// The box of the places that have a value. A country's far territories (French Guiana,
// the Canaries) would stretch it across oceans: only each country's largest part counts.
function extent(geo, names) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  const area = (b) => (b[2] - b[0]) * (b[3] - b[1]);
  for (const f of geo.features) {
    if (!names.has(f.properties.name)) continue;
    const parts = f.geometry.type === "MultiPolygon" ? f.geometry.coordinates : [f.geometry.coordinates];
    const main = parts.map((p) => bounds(p)).reduce((a, b) => (area(b) > area(a) ? b : a));
    bounds([[main[0], main[1]], [main[2], main[3]]], box);
  }
  return box[0] === Infinity ? null : box;
}

// Centre and zoom for a region: Europe, the whole world, or as far as the data reaches.
function view(spec, geo) {
  if (spec.region === "europe") return { center: [15, 52], zoom: 4.2 };
  if (spec.region !== "fit") return {};
  const box = extent(geo, new Set(spec.data.map((d) => d.name)));
  const whole = extent(geo, new Set(geo.features.map((f) => f.properties.name)));
  if (!box || !whole) return {};
  // A margin of a fifth around the places; never closer than a small country's width.
  const w = Math.max(box[2] - box[0], 8) * 1.2;
  const h = Math.max(box[3] - box[1], 6) * 1.2;
  const zoom = Math.max(1, Math.min((whole[2] - whole[0]) / w, (whole[3] - whole[1]) / h));
  return { center: [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], zoom };
}

function map(spec, geo) {
  const values = spec.data.map((d) => d.value);
  const max = values.length ? Math.max(...values) : 1;
  return {
    ...base(),
    tooltip: { trigger: "item", formatter: (p) => `${escapeHtml((p.data && p.data.label) || p.name)}: ${number(p.value)}` },
    visualMap: { min: 0, max: max || 1, calculable: false, left: 8, bottom: 8, inRange: { color: ["#deebf7", "#6baed6", "#08306b"] }, text: [number(max), "0"] },
    series: [{
      type: "map", map: "world", roam: true, data: spec.data,
      nameProperty: "name",
      ...view(spec, geo),
      itemStyle: { areaColor: "#f3f5f7", borderColor: "#8a949e", borderWidth: 0.5 },
      emphasis: { label: { show: false }, itemStyle: { areaColor: "#f2a900" } },
    }],
  };
}

function sankey(spec) {
  return {
    ...base(),
    tooltip: { trigger: "item", valueFormatter: number },
    series: [{
      type: "sankey", data: spec.nodes.map((n) => ({ name: n.name, label: { formatter: n.label } })),
      links: spec.links, nodeAlign: "justify", emphasis: { focus: "adjacency" },
      label: { color: "#1b1f24", formatter: (p) => (spec.nodes.find((n) => n.name === p.name) || {}).label || p.name },
      lineStyle: { color: "gradient", opacity: 0.4 },
    }],
  };
}

async function draw(figure) {
  const data = document.getElementById(figure.dataset.chart);
  const canvas = figure.querySelector(".canvas");
  if (!data || !canvas) return;
  const spec = JSON.parse(data.textContent);
  let option;
  if (spec.kind === "map") {
    option = map(spec, await world());
  } else if (spec.kind === "sankey") {
    option = sankey(spec);
  } else if (spec.kind === "fan") {
    option = fan(spec);
  } else {
    option = lineOrBar(spec);
  }
  const chart = echarts.init(canvas, null, { renderer: "svg" });
  chart.setOption(option);
  // The drawn series, for whoever checks what is on screen (the browser tests do).
  figure.dataset.drawn = "true";
  figure.dataset.series = (option.series || []).map((s) => s.name || s.type).join("|");
  figure.dataset.incomplete = (spec.incomplete || []).join("|");
  if (spec.kind === "map") {
    const v = option.series[0];
    figure.dataset.view = v.center ? `${v.center.map((x) => x.toFixed(1)).join(",")} x${v.zoom.toFixed(1)}` : "world";
  }
  figure.dataset.aggregates = [...(spec.aggregates || []), ...(spec.series || []).filter((s) => s.aggregate).map((s) => s.name)].join("|");
  // The SVG is one picture: its text alternative is the figure's label and the table.
  const svg = canvas.querySelector("svg");
  if (svg) svg.setAttribute("aria-hidden", "true");
  new ResizeObserver(() => chart.resize()).observe(canvas);
}

function uploadProgress(form) {
  // Not form.dataset: a form's fields are its properties, and this one has a field "dataset".
  const bar = document.getElementById(form.getAttribute("data-progress"));
  const status = document.getElementById("upload-status");
  form.addEventListener("submit", (event) => {
    const file = form.querySelector('input[type="file"]');
    if (!file || !file.files.length || !window.XMLHttpRequest) return;
    event.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    bar.hidden = false;
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        status.textContent = e.loaded < e.total ? `Sending: ${bar.value}%` : "Sent; the server is reading the file…";
      }
    });
    xhr.addEventListener("load", () => {
      // The server answers with the staged upload's page (after a redirect) or an error page.
      if (xhr.responseURL && xhr.status < 400) {
        window.location.assign(xhr.responseURL);
      } else {
        document.open();
        document.write(xhr.responseText);
        document.close();
      }
    });
    xhr.addEventListener("error", () => { status.textContent = "The upload failed: the connection was lost. Try again."; });
    xhr.send(new FormData(form));
  });
}

function start() {
  document.querySelectorAll("figure[data-chart]").forEach((f) => {
    draw(f).catch((e) => {
      f.dataset.drawn = "error";
      const c = f.querySelector("figcaption");
      if (c) c.append(` (the chart could not be drawn: ${e.message})`);
    });
  });
  document.querySelectorAll("form[data-progress]").forEach(uploadProgress);
  const reload = document.querySelector("[data-reload]");
  if (reload) setTimeout(() => window.location.reload(), Number(reload.dataset.reload) || 1000);
  document.querySelectorAll("input[readonly]").forEach((i) => i.addEventListener("focus", () => i.select()));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
