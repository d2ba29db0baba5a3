// The import wizard (/imports/<id>/): saves the column mapping, starts the dry run and
// polls the job every second while it runs (done/total and a progress bar), shows the plan
// row by row with a filter, then commits or reverts (docs/customers-import-export.md).
import { $, cookie, el, fmt } from "./dom.js";

const config = JSON.parse(document.getElementById("imports-config").textContent);
const T = config.strings;
const RUNNING = ["planning", "committing", "reverting"];
let nextRows = null;

async function api(path, method = "GET", body = undefined) {
  const headers = { Accept: "application/json", "X-CSRFToken": cookie("csrftoken") };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    showError(T.network_error);
    throw new Error("network");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const details = Object.values(data.errors || {}).flat().join(" ");
    showError(`${data.detail || response.status} ${details}`.trim());
    throw new Error(String(response.status));
  }
  $("#import-error").hidden = true;
  return data;
}

function showError(text) {
  const box = $("#import-error");
  box.textContent = text;
  box.hidden = false;
}

function show(job) {
  $("#job-status").textContent = job.status_label;
  const running = RUNNING.includes(job.status);
  $("#progress-box").hidden = !(running || job.status === "planned" || job.status === "committed");
  $("#progress-bar").value = job.progress;
  $("#progress-percent").textContent = String(job.progress);
  $("#progress-text").textContent = fmt(T.progress, { done: job.done_rows, total: job.total_rows });
  const counts = job.counts || {};
  $("#counts").textContent = ["create", "update", "skip", "error"]
    .map((a) => `${T[a]}: ${counts[a] ?? 0}`)
    .join(" · ");
  $("#run-plan").disabled = running || !["uploaded", "planned", "failed"].includes(job.status);
  $("#save-mapping").disabled = $("#run-plan").disabled;
  $("#commit").disabled = job.status !== "planned";
  $("#revert").disabled = job.status !== "committed";
  if (job.error) $("#commit-result").textContent = job.error;
}

async function poll() {
  const job = await api(config.api);
  show(job);
  if (RUNNING.includes(job.status)) {
    setTimeout(poll, 1000);
  } else if (["planned", "committed", "reverted"].includes(job.status)) {
    loadRows(true);
  }
}

function rowLine(row) {
  const reasons = row.reasons.map((r) => (r.field ? `${r.field}: ${r.message}` : r.message)).join("; ");
  const values = Object.entries(row.values).map(([k, v]) => `${k}=${v}`).join(", ");
  return el(
    "tr",
    { class: `row-${row.action}`, dataset: { line: String(row.line), action: row.action } },
    el("td", { text: String(row.line) }),
    el("td", { text: T[row.action] || row.action }),
    el("td", { text: reasons }),
    el("td", { text: values }),
  );
}

async function loadRows(fresh) {
  const body = $("#plan-rows tbody");
  let url = nextRows;
  if (fresh || !url) {
    const action = $("#row-filter").value;
    url = `${config.api}rows/${action ? `?action=${action}` : ""}`;
    body.replaceChildren();
  }
  const page = await api(url);
  for (const row of page.results) body.append(rowLine(row));
  if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: "4", text: T.no_rows })));
  nextRows = page.next;
  $("#more-rows").hidden = !page.next;
}

$("#mapping-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const mapping = {};
  for (const select of document.querySelectorAll("#mapping-form select[data-column]")) {
    mapping[select.dataset.column] = select.value;
  }
  const matchOn = [...document.querySelectorAll("#mapping-form input[name=match_on]:checked")].map((i) => i.value);
  const job = await api(`${config.api}mapping/`, "POST", { mapping, match_on: matchOn });
  $("#mapping-saved").textContent = T.saved;
  show(job);
});

$("#run-plan").addEventListener("click", async () => {
  show(await api(`${config.api}plan/`, "POST"));
  poll();
});

$("#commit").addEventListener("click", async () => {
  if (!window.confirm(T.confirm_commit)) return;
  show(await api(`${config.api}commit/`, "POST"));
  poll();
});

$("#revert").addEventListener("click", async () => {
  if (!window.confirm(T.confirm_revert)) return;
  show(await api(`${config.api}revert/`, "POST"));
  poll();
});

$("#row-filter").addEventListener("change", () => loadRows(true));
$("#more-rows").addEventListener("click", () => loadRows(false));

poll();
