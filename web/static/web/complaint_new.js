// The phone intake of a complaint (docs/ui.md, "Complaints"): find the caller as you type
// (GET /api/contacts/?search=), then show the customer's earlier complaints, open tickets and
// whether this one would be a repeat (GET /complaints/new/context/); the severity the matrix
// gives for impact × urgency, live; the subcategories of the chosen category. The form itself
// is an ordinary POST with a one-time token: it works without this module, and a double
// click records one complaint.
import { $, el, fmt } from "./dom.js";

const intake = JSON.parse(document.getElementById("complaint-intake").textContent);
const T = intake.strings;
const SEARCH_DELAY_MS = 250;
const ORDER = ["S1", "S2", "S3", "S4"];

const form = $("#new-complaint");
const search = $("#contact-search");
const list = $("#contact-results");
const status = $("#contact-status");
let options = [];
let active = -1;
let seq = 0;
let timer = null;
let controller = null;
let repeat = null;

async function getJSON(url, signal) {
  const response = await fetch(url, { credentials: "same-origin", signal, headers: { Accept: "application/json" } });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new Error(data?.detail || fmt(T.error, { status: response.status }));
  return data;
}

// --- the contact combobox ---------------------------------------------------------------------
function show(rows) {
  options = rows;
  active = -1;
  search.removeAttribute("aria-activedescendant");
  list.replaceChildren(
    ...rows.map((row, index) =>
      el(
        "li",
        { id: `contact-results-${index}`, role: "option", "aria-selected": "false", class: "combo-option", "data-index": String(index) },
        el("span", { class: "combo-label", text: row.name || row.email }),
        el("span", {
          class: "combo-detail",
          text: [row.name ? row.email : null, row.phone || null, row.customer?.name ?? T.no_customer].filter(Boolean).join(" · "),
        }),
      ),
    ),
  );
  list.hidden = rows.length === 0;
  search.setAttribute("aria-expanded", String(rows.length > 0));
}

function close() {
  list.hidden = true;
  search.setAttribute("aria-expanded", "false");
  search.removeAttribute("aria-activedescendant");
  active = -1;
}

async function run(text) {
  seq += 1;
  const mine = seq;
  controller?.abort();
  controller = new AbortController();
  status.textContent = T.searching;
  try {
    const data = await getJSON(`/api/contacts/?search=${encodeURIComponent(text)}`, controller.signal);
    if (mine !== seq) return;
    const rows = data.results;
    status.textContent = rows.length === 0 ? T.none_found : rows.length === 1 ? T.found_one : fmt(T.found, { count: rows.length });
    show(rows);
  } catch (error) {
    if (mine !== seq || error.name === "AbortError") return;
    status.textContent = fmt(T.search_failed, { detail: error.message });
    show([]);
  }
}

function move(step) {
  if (!options.length) return;
  list.hidden = false;
  active = active < 0 ? (step > 0 ? 0 : options.length - 1) : (active + step + options.length) % options.length;
  for (const item of list.children) {
    const on = Number(item.dataset.index) === active;
    item.setAttribute("aria-selected", String(on));
    item.classList.toggle("active", on);
  }
  search.setAttribute("aria-activedescendant", `contact-results-${active}`);
}

function pick(index) {
  const row = options[index];
  if (!row) return;
  close();
  choose(row);
}

search.addEventListener("input", () => {
  clearTimeout(timer);
  const text = search.value.trim();
  if (!text) {
    seq += 1;
    show([]);
    status.textContent = "";
    return;
  }
  timer = setTimeout(() => run(text), SEARCH_DELAY_MS);
});
search.addEventListener("keydown", (event) => {
  if (event.key === "ArrowDown") {
    event.preventDefault();
    move(1);
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    move(-1);
  } else if (event.key === "Enter") {
    // Enter chooses; it never sends the form from the search box.
    event.preventDefault();
    if (active >= 0) pick(active);
    else if (options.length === 1) pick(0);
  } else if (event.key === "Escape" && !list.hidden) {
    event.preventDefault();
    close();
  }
});
search.addEventListener("blur", () => setTimeout(close, 150));
list.addEventListener("mousedown", (event) => {
  const item = event.target.closest("[role=option]");
  if (!item) return;
  event.preventDefault();
  pick(Number(item.dataset.index));
});

function choose(row) {
  $("#contact-id").value = String(row.id);
  search.value = "";
  $("#chosen-name").textContent = row.name || "—";
  $("#chosen-email").textContent = row.email;
  $("#chosen-phone").textContent = row.phone || "—";
  $("#chosen-customer").textContent = row.customer?.name ?? T.no_customer;
  $("#contact-chosen").hidden = false;
  $("#contact-find").hidden = true;
  $("#contact-problem").hidden = true;
  loadContext();
  $("#category").focus();
}

$("#contact-change").addEventListener("click", () => {
  $("#contact-id").value = "";
  $("#contact-chosen").hidden = true;
  $("#contact-find").hidden = false;
  $("#customer-history").hidden = true;
  $("#repeat-flag").hidden = true;
  repeat = null;
  preview();
  search.focus();
});

// --- the customer's history and the repeat flag -------------------------------------------------
let contextSeq = 0;
async function loadContext() {
  const contact = $("#contact-id").value;
  if (!contact) return;
  const params = new URLSearchParams({ contact, category: $("#category").value, profile: $("#profile").value });
  contextSeq += 1;
  const mine = contextSeq;
  let data;
  try {
    data = await getJSON(`${intake.context_url}?${params}`);
  } catch (error) {
    if (mine === contextSeq) status.textContent = fmt(T.search_failed, { detail: error.message });
    return;
  }
  if (mine !== contextSeq) return;
  const link = (row, text) => (row.url ? el("a", { href: row.url, text }) : el("span", { text }));
  $("#history-complaints").replaceChildren(
    ...(data.complaints.length
      ? data.complaints.map((row) =>
          el("li", { "data-id": String(row.id) }, link(row, row.number), ` ${row.title} · ${row.severity} · ${row.status_label}`),
        )
      : [el("li", { class: "empty", text: T.no_history })]),
  );
  $("#history-work").replaceChildren(
    ...(data.open_work.length
      ? data.open_work.map((row) => el("li", {}, link(row, row.number), ` ${row.title} · ${row.priority}`))
      : [el("li", { class: "empty", text: T.no_open_work })]),
  );
  $("#customer-history").hidden = false;
  repeat = data.repeat;
  const flag = $("#repeat-flag");
  if (repeat) {
    flag.replaceChildren(
      el("strong", { text: "⚑ " }),
      el("a", { href: repeat.url, text: repeat.number }),
      " ",
      fmt(T.repeat, { days: repeat.days }),
    );
    flag.dataset.repeat = "1";
  } else {
    flag.replaceChildren(T.not_repeat);
    flag.dataset.repeat = "0";
  }
  flag.hidden = false;
  preview();
}

// --- category → subcategory; impact × urgency → severity -------------------------------------
function subcategories() {
  const parent = $("#category").value;
  const select = $("#subcategory");
  for (const option of select.options) {
    if (!option.value) continue;
    const mine = option.dataset.parent === parent;
    option.hidden = !mine;
    option.disabled = !mine;
  }
  if (select.selectedOptions[0]?.disabled) select.value = "";
}

function derived() {
  const cell = intake.matrix[$("#impact").value]?.[$("#urgency").value] ?? "S3";
  if (!repeat) return { severity: cell, raised: false };
  return { severity: ORDER[Math.max(ORDER.indexOf(cell) - 1, 0)], raised: true };
}

function preview() {
  const { severity, raised } = derived();
  const out = $("#severity-preview");
  const label = intake.severity_labels[severity] ?? severity;
  out.textContent = raised ? fmt(T.raised, { severity: label }) : label;
  out.dataset.severity = severity;
  const override = $("#severity").value;
  const differs = override !== "" && override !== severity;
  const reason = $("#severity-reason");
  reason.required = differs;
  $("#severity-reason-field").dataset.required = differs ? "1" : "0";
  $("#severity-reason-hint").textContent = differs ? T.override_differs : $("#severity-reason-hint").dataset.text;
}
$("#severity-reason-hint").dataset.text = $("#severity-reason-hint").textContent;

$("#category").addEventListener("change", () => {
  subcategories();
  loadContext();
});
$("#profile").addEventListener("change", loadContext);
for (const id of ["#impact", "#urgency", "#severity"]) $(id).addEventListener("change", preview);
subcategories();
preview();
if ($("#contact-id").value) loadContext();

// --- once only -----------------------------------------------------------------------------------
let sent = false;
form.addEventListener("submit", (event) => {
  if (sent) {
    event.preventDefault();
    return;
  }
  sent = true;
  $("#record-complaint").setAttribute("aria-disabled", "true");
  $("#record-status").textContent = T.sending;
});
