// The segment editor (/segments/new/, /segments/<id>/): conditions with field, operator and
// value controls; the live count and preview follow each change (a debounced POST to
// /api/segments/preview/); save, freeze and the members of a static list go through the
// segments API (docs/customers-segments.md).
import { $, cookie, el, fmt } from "./dom.js";

const config = JSON.parse(document.getElementById("segments-config").textContent);
const T = config.strings;
const catalogue = Object.fromEntries(config.catalogue.map((f) => [f.field, f]));
const DEBOUNCE_MS = 300;

async function api(method, url, body) {
  const headers = { Accept: "application/json", "X-CSRFToken": cookie("csrftoken") };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    const error = new Error(T.network_error);
    error.errors = {};
    throw error;
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new Error(data?.detail || fmt(T.error, { status: response.status }));
    error.errors = data?.errors || {};
    throw error;
  }
  return data;
}

const withId = (url, id) => url.replace("/0/", `/${id}/`);

// --- state -------------------------------------------------------------------------------
const segment = config.segment;
const initial = segment?.definition || {};
let joiner = "any" in initial ? "any" : "all";
let conditions = (initial[joiner] || []).map((c) => ({ ...c }));
let pending = null;
let sequence = 0;

function fieldLabel(name) {
  const entry = catalogue[name];
  if (entry?.label) return document.documentElement.lang.startsWith("zh") && entry.label_zh ? entry.label_zh : entry.label;
  return T.fields[name] || name;
}

function defaultValue(entry, op) {
  if (!entry) return "";
  if (entry.kind === "bool" || entry.kind === "custom_boolean") return true;
  if (entry.kind === "days") return 30;
  if (entry.kind === "score") return 3;
  if (op === "in" || entry.kind === "tags") return entry.choices.length ? [entry.choices[0]] : [];
  if (entry.choices.length) return entry.choices[0];
  return "";
}

function definition() {
  return { [joiner]: conditions };
}

// --- rendering ---------------------------------------------------------------------------
function valueControl(condition, index) {
  const entry = catalogue[condition.field];
  const name = `value-${index}`;
  const set = (value) => {
    condition.value = value;
    changed();
  };
  if (!entry) return el("span");
  if (entry.kind === "bool" || entry.kind === "custom_boolean") {
    const select = el(
      "select",
      { name, class: "condition-value", "aria-label": T.fields[condition.field] || condition.field },
      el("option", { value: "true" }, T.yes),
      el("option", { value: "false" }, T.no),
    );
    select.value = condition.value === false ? "false" : "true";
    select.addEventListener("change", () => set(select.value === "true"));
    return select;
  }
  if (entry.choices.length && condition.op !== "in") {
    const select = el("select", { name, class: "condition-value" }, ...entry.choices.map((c) => el("option", { value: c }, c || "—")));
    select.value = condition.value ?? "";
    select.addEventListener("change", () => set(select.value));
    return select;
  }
  if (entry.choices.length && condition.op === "in") {
    const select = el("select", { name, class: "condition-value", multiple: "" }, ...entry.choices.map((c) => el("option", { value: c }, c || "—")));
    const chosen = new Set(Array.isArray(condition.value) ? condition.value : []);
    for (const option of select.options) option.selected = chosen.has(option.value);
    select.addEventListener("change", () => set([...select.selectedOptions].map((o) => o.value)));
    return select;
  }
  const numeric = ["days", "score", "custom_number"].includes(entry.kind);
  const list = condition.op === "in" || entry.kind === "tags";
  const input = el("input", {
    name,
    class: "condition-value",
    type: numeric ? "number" : entry.kind === "custom_date" ? "date" : "text",
    placeholder: list ? T.list_hint : "",
  });
  input.value = Array.isArray(condition.value) ? condition.value.join(", ") : (condition.value ?? "");
  input.addEventListener("input", () => {
    const raw = input.value;
    if (list) set(raw.split(",").map((s) => s.trim()).filter(Boolean));
    else if (numeric) set(raw === "" ? "" : Number(raw));
    else set(raw);
  });
  return input;
}

function renderConditions() {
  const list = $("#conditions");
  list.replaceChildren();
  conditions.forEach((condition, index) => {
    if (!condition.field) {
      // a nested group: shown as it is, removable
      list.append(el("li", { class: "condition group", "data-index": String(index) }, el("code", {}, JSON.stringify(condition)), removeButton(index)));
      return;
    }
    const entry = catalogue[condition.field];
    const fieldSelect = el(
      "select",
      { class: "condition-field", name: `field-${index}`, disabled: config.may_manage ? null : "" },
      ...Object.keys(catalogue).map((f) => el("option", { value: f }, fieldLabel(f))),
    );
    fieldSelect.value = condition.field;
    fieldSelect.addEventListener("change", () => {
      const next = catalogue[fieldSelect.value];
      condition.field = fieldSelect.value;
      condition.op = next.ops[0];
      condition.value = defaultValue(next, condition.op);
      renderConditions();
      changed();
    });
    const opSelect = el(
      "select",
      { class: "condition-op", name: `op-${index}`, disabled: config.may_manage ? null : "" },
      ...(entry ? entry.ops : [condition.op]).map((op) => el("option", { value: op }, T.ops[op] || op)),
    );
    opSelect.value = condition.op;
    opSelect.addEventListener("change", () => {
      const wasList = condition.op === "in";
      condition.op = opSelect.value;
      if (wasList !== (condition.op === "in")) condition.value = defaultValue(entry, condition.op);
      renderConditions();
      changed();
    });
    list.append(
      el(
        "li",
        { class: "condition", "data-index": String(index) },
        fieldSelect,
        opSelect,
        valueControl(condition, index),
        el("span", { class: "condition-error", id: `condition-error-${index}`, role: "alert" }),
        config.may_manage ? removeButton(index) : "",
      ),
    );
  });
}

function removeButton(index) {
  const button = el("button", { type: "button", class: "remove-condition" }, T.remove);
  button.addEventListener("click", () => {
    conditions.splice(index, 1);
    renderConditions();
    changed();
  });
  return button;
}

function showErrors(errors) {
  for (const node of document.querySelectorAll(".condition-error")) node.textContent = "";
  const box = $("#segment-errors");
  const general = [];
  for (const [key, messages] of Object.entries(errors || {})) {
    const match = key.match(/^definition\.(?:all|any)\.(\d+)/);
    const target = match && document.getElementById(`condition-error-${match[1]}`);
    if (target) target.textContent = messages.join(" ");
    else general.push(...messages);
  }
  box.hidden = general.length === 0;
  box.textContent = general.join(" ");
}

function showPreview(data) {
  $("#live-count").textContent = String(data.count);
  const table = $("#preview");
  if (!table) return;
  const rows = data.sample.map((c) => el("tr", { "data-id": String(c.id) }, el("td", {}, c.name), el("td", {}, c.email), el("td", {}, c.customer?.name || "—")));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "3" }, T.no_match)));
  table.tBodies[0].replaceChildren(...rows);
}

// --- the live count ----------------------------------------------------------------------
async function refresh() {
  const kind = $("#segment-kind").value;
  if (kind === "static" || !config.may_manage) return;
  const mine = ++sequence;
  $("#live-count").setAttribute("aria-busy", "true");
  try {
    const data = await api("POST", config.urls.preview, { definition: definition() });
    if (mine !== sequence) return; // an older answer arriving late
    showErrors({});
    showPreview(data);
  } catch (error) {
    if (mine !== sequence) return;
    showErrors(Object.keys(error.errors).length ? error.errors : { "": [error.message] });
  } finally {
    if (mine === sequence) $("#live-count").removeAttribute("aria-busy");
  }
}

function changed() {
  clearTimeout(pending);
  pending = setTimeout(refresh, DEBOUNCE_MS);
}

// --- actions -----------------------------------------------------------------------------
function status(text) {
  $("#segment-status").textContent = text;
}

async function save(event) {
  event.preventDefault();
  const body = {
    name: $("#segment-name").value,
    description: $("#segment-description").value,
  };
  const kind = $("#segment-kind").value;
  if (kind !== "static") body.definition = definition();
  try {
    if (segment) {
      await api("PATCH", withId(config.urls.segment, segment.id), body);
      showErrors({});
      status(T.saved);
    } else {
      const created = await api("POST", config.urls.segment.replace("/0/", "/"), { ...body, kind });
      window.location.assign(withId(config.urls.editor, created.id));
    }
  } catch (error) {
    showErrors(Object.keys(error.errors).length ? error.errors : { "": [error.message] });
  }
}

async function freeze() {
  try {
    const snapshot = await api("POST", withId(config.urls.freeze, segment.id));
    status(fmt(T.frozen, { size: snapshot.size }));
  } catch (error) {
    showErrors({ "": [error.message] });
  }
}

function ids(text) {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
}

async function changeMembers(event) {
  event.preventDefault();
  try {
    const result = await api("POST", withId(config.urls.members, segment.id), {
      add: ids($("#members-add").value),
      remove: ids($("#members-remove").value),
    });
    $("#live-count").textContent = String(result.count);
    status(fmt(T.added, result));
    $("#members-add").value = "";
    $("#members-remove").value = "";
  } catch (error) {
    showErrors({ "": [...Object.values(error.errors).flat(), error.message].slice(0, 1) });
  }
}

function kindChanged() {
  $("#conditions-box").hidden = $("#segment-kind").value === "static";
}

// --- wiring ------------------------------------------------------------------------------
const legend = $("#conditions-box legend");
if (legend && config.may_manage) {
  const joinerSelect = el(
    "select",
    { id: "segment-joiner", "aria-label": legend.textContent },
    el("option", { value: "all" }, T.match_all),
    el("option", { value: "any" }, T.match_any),
  );
  joinerSelect.value = joiner;
  joinerSelect.addEventListener("change", () => {
    joiner = joinerSelect.value;
    changed();
  });
  legend.replaceChildren(joinerSelect);
}
$("#add-condition")?.addEventListener("click", () => {
  const first = config.catalogue[0];
  conditions.push({ field: first.field, op: first.ops[0], value: defaultValue(first, first.ops[0]) });
  renderConditions();
  changed();
});
$("#segment-form").addEventListener("submit", save);
$("#freeze-segment")?.addEventListener("click", freeze);
$("#members-form")?.addEventListener("submit", changeMembers);
$("#segment-kind").addEventListener("change", () => {
  kindChanged();
  changed();
});
renderConditions();
kindChanged();
if (!segment || segment.kind !== "static") changed();
