// The complaint report (/reports/complaints/): draws the charts with the vendored Chart.js
// (static/vendor/chartjs, a classic script that defines window.Chart), and when a filter
// changes re-reads /api/reports/complaints/, redraws the charts and tables, and points the
// export links and the address bar at the new filters.
import { $, el, fmt } from "./dom.js";

const config = JSON.parse(document.getElementById("reports-config").textContent);
const T = config.strings;
const Chart = window.Chart;
const charts = {};
const COLOURS = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4d7c0f"];

function duration(seconds) {
  if (seconds === null || seconds === undefined || seconds === "") return T.none;
  const value = Number(seconds);
  if (value >= 86400) return `${(value / 86400).toFixed(1)} ${T.days}`;
  return `${(value / 3600).toFixed(1)} ${T.hours}`;
}

function percent(share) {
  if (share === null || share === undefined || share === "") return T.none;
  return `${(Number(share) * 100).toFixed(1)}%`;
}

function draw(id, type, labels, datasets, options = {}) {
  const canvas = document.getElementById(id);
  if (charts[id]) {
    charts[id].data.labels = labels;
    charts[id].data.datasets = datasets;
    charts[id].update();
    return;
  }
  charts[id] = new Chart(canvas, {
    type,
    data: { labels, datasets },
    options: { responsive: true, maintainAspectRatio: true, animation: false, ...options },
  });
}

function counts(rows) {
  return {
    labels: rows.map((r) => r.label),
    data: [{ label: T.complaints, data: rows.map((r) => r.count), backgroundColor: COLOURS }],
  };
}

function fillTable(id, rows) {
  const body = $(`#${id} tbody`);
  body.replaceChildren(...rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", { text: String(c) })))));
}

function render(stats) {
  $("#total-complaints").textContent = stats.totals.complaints;
  $("#total-answered").textContent = stats.totals.answered;
  $("#handling-median").textContent = duration(stats.handling.median_seconds);
  $("#handling-p90").textContent = duration(stats.handling.p90_seconds);
  $("#repeat-rate").textContent = percent(stats.totals.repeat_rate);
  $("#extended").textContent = stats.totals.extended;
  $("#extended-share").textContent = percent(stats.totals.extended_share);
  $("#report-as-of").textContent = stats.as_of
    ? fmt(T.as_of, { time: new Date(stats.as_of).toLocaleString() })
    : T.never;

  const noLegend = { plugins: { legend: { display: false } } };
  for (const [key, id] of [
    ["by_category", "category"],
    ["by_severity", "severity"],
    ["by_channel", "channel"],
    ["by_root_cause", "root-cause"],
  ]) {
    const { labels, data } = counts(stats[key]);
    draw(`chart-${id}`, key === "by_severity" ? "doughnut" : "bar", labels, data, key === "by_severity" ? {} : noLegend);
    fillTable(`table-${id}`, stats[key].map((r) => [r.label, r.count]));
  }
  draw(
    "chart-targets",
    "bar",
    stats.targets.map((t) => t.label),
    [
      { label: T.within, data: stats.targets.map((t) => t.within), backgroundColor: COLOURS[1] },
      { label: T.late, data: stats.targets.map((t) => t.late), backgroundColor: COLOURS[3] },
    ],
    { scales: { x: { stacked: true }, y: { stacked: true } } },
  );
  fillTable(
    "table-targets",
    stats.targets.map((t) => [t.label, t.decided, t.within, percent(t.share_within)]),
  );
  const buckets = stats.handling.histogram;
  draw(
    "chart-handling",
    "bar",
    buckets.map((b, i) => (b.below_seconds === null ? `≥ ${duration(buckets[i - 1].below_seconds)}` : `< ${duration(b.below_seconds)}`)),
    [{ label: T.handling, data: buckets.map((b) => b.count), backgroundColor: COLOURS[0] }],
    noLegend,
  );
  const kinds = stats.compensation[0].kinds;
  draw(
    "chart-compensation",
    "bar",
    stats.compensation.map((l) => l.label),
    kinds.map((k, i) => ({
      label: k.label,
      data: stats.compensation.map((l) => Number(l.kinds[i].amount)),
      backgroundColor: COLOURS[i],
    })),
    { scales: { x: { stacked: true }, y: { stacked: true } } },
  );
  fillTable(
    "table-compensation",
    stats.compensation.map((l) => [l.label, l.count, l.amount, ...l.kinds.map((k) => `${k.count} / ${k.amount}`)]),
  );
  document.body.dataset.reportRendered = String(Number(document.body.dataset.reportRendered || 0) + 1);
}

function query(form) {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) if (value !== "") params.set(name, value);
  return params;
}

function pointLinks(params) {
  for (const [id, key] of [
    ["export-statistics", "statistics_csv"],
    ["export-register-csv", "register_csv"],
    ["export-register-xlsx", "register_xlsx"],
  ]) {
    const link = document.getElementById(id);
    link.href = `${config.links[key].split("?")[0]}?${params}`;
  }
}

function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.hidden = false;
}

let latest = 0;
async function reload(form) {
  const params = query(form);
  const asked = ++latest;
  const grid = $(".report-grid");
  grid.setAttribute("aria-busy", "true");
  let response;
  try {
    response = await fetch(`${config.api}?${params}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  } catch {
    grid.removeAttribute("aria-busy");
    toast(T.network_error);
    return;
  }
  const data = await response.json().catch(() => null);
  if (asked !== latest) return;
  grid.removeAttribute("aria-busy");
  if (!response.ok) {
    toast(data?.detail || T.network_error);
    return;
  }
  render(data);
  pointLinks(params);
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

const form = document.getElementById("report-filters");
form.addEventListener("change", () => reload(form));
form.addEventListener("submit", (event) => {
  event.preventDefault();
  reload(form);
});
render(config.stats);
