// The tickets list (/tickets/): keyboard selection, filters that apply on change, and the
// user's saved views through /api/saved-views/. The page itself is server-rendered: the
// filters live in the URL, so a list can be bookmarked without this module.
import { $, cookie, fmt } from "./dom.js";

const config = JSON.parse(document.getElementById("tickets-config").textContent);
const T = config.strings;

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
    throw new Error(T.network_error);
  }
  if (response.status === 204) return { status: 204, data: null };
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const fields = data?.errors ? Object.values(data.errors).flat() : [];
    throw new Error(fields[0] || data?.detail || fmt(T.error, { status: response.status }));
  }
  return { status: response.status, data };
}

// --- the table: j / k (↓ / ↑) move the selection, Enter opens, / searches ---------------
const table = $("#tickets");
const rows = () => [...table.tBodies[0].rows];
let selected = -1;

function select(index) {
  const all = rows();
  if (!all.length) return;
  selected = Math.max(0, Math.min(all.length - 1, index));
  all.forEach((tr, i) => {
    const on = i === selected;
    tr.classList.toggle("selected", on);
    tr.setAttribute("aria-selected", String(on));
  });
  const tr = all[selected];
  tr.focus({ preventScroll: true });
  tr.scrollIntoView({ block: "nearest" });
}

function move(step) {
  if (selected < 0) select(step > 0 ? 0 : rows().length - 1);
  else select(selected + step);
}

function openSelected() {
  const tr = rows()[selected];
  if (tr) location.href = tr.dataset.href;
}

table.tBodies[0].addEventListener("click", (event) => {
  const tr = event.target.closest("tr");
  if (tr && !event.target.closest("a")) select(rows().indexOf(tr));
});

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if ($("#help")?.open) return;
  const typing = event.target.closest("input, textarea, select, [contenteditable]");
  if (typing) {
    if (event.key === "Escape" && event.target.id === "ticket-search") event.target.blur();
    return;
  }
  switch (event.key) {
    case "j":
    case "ArrowDown":
      move(1);
      break;
    case "k":
    case "ArrowUp":
      move(-1);
      break;
    case "Enter":
      if (selected < 0 || event.target.closest("a, button")) return;
      openSelected();
      break;
    case "/": {
      const search = $("#ticket-search");
      search.focus();
      search.select();
      break;
    }
    default:
      return;
  }
  event.preventDefault();
});

// --- filters apply as soon as one changes (the Apply button stays for the search box) ------
// The URL keeps only the filters set, so that it reads well when bookmarked or shared.
const filters = $("#ticket-filters");
filters.addEventListener("change", (event) => {
  if (event.target.matches("select, input[type=checkbox]")) filters.requestSubmit();
});
filters.addEventListener("submit", (event) => {
  event.preventDefault();
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(filters)) {
    if (String(value).trim() !== "") params.append(name, value);
  }
  const query = params.toString();
  location.assign(filters.action + (query ? `?${query}` : ""));
});

// --- saved views -----------------------------------------------------------------------
const list = $("#saved-views");
const form = $("#save-view-form");
const nameInput = $("#save-view-name");
const errorBox = $("#save-view-error");
const status = $("#saved-views-status");

function say(text) {
  status.textContent = text;
}

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
  nameInput.setAttribute("aria-invalid", text ? "true" : "false");
}

function viewItem(view) {
  const li = document.createElement("li");
  li.dataset.id = view.id;
  const link = document.createElement("a");
  link.href = view.url;
  link.textContent = view.name;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "link delete-view";
  remove.dataset.id = view.id;
  remove.dataset.name = view.name;
  remove.setAttribute("aria-label", fmt(T.delete, { name: view.name }));
  remove.textContent = "×";
  li.append(link, " ", remove);
  return li;
}

function markCurrent(id) {
  for (const link of list.querySelectorAll("a")) {
    if (link.closest("li").dataset.id === String(id)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function showEmpty() {
  $("#saved-views-empty").hidden = list.children.length > 0;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = nameInput.value.trim();
  if (!name) {
    showError(T.name_required);
    nameInput.focus();
    return;
  }
  showError("");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    const { status: code, data } = await api("POST", config.saved_views_url, {
      name,
      query: config.query,
    });
    const item = viewItem(data);
    const existing = list.querySelector(`li[data-id="${data.id}"]`);
    if (existing) existing.replaceWith(item);
    else {
      const after = [...list.children].find(
        (li) => li.querySelector("a").textContent.localeCompare(data.name) > 0,
      );
      list.insertBefore(item, after ?? null);
    }
    markCurrent(data.id);
    showEmpty();
    nameInput.value = "";
    say(fmt(code === 201 ? T.saved : T.replaced, { name: data.name }));
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }
});

list.addEventListener("click", async (event) => {
  const button = event.target.closest("button.delete-view");
  if (!button || button.disabled) return;
  button.disabled = true;
  try {
    await api("DELETE", `${config.saved_views_url}${button.dataset.id}/`);
    button.closest("li").remove();
    showEmpty();
    say(fmt(T.deleted, { name: button.dataset.name }));
    nameInput.focus();
  } catch (error) {
    button.disabled = false;
    say(error.message);
  }
});

window.kefuTickets = { select, move };
