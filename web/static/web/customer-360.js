// The 360 page's timeline: "Show older" reads the next page from the API and appends it
// (docs/customers-360.md). The server renders the first page; this adds the rest.
import { $, el } from "./dom.js";

const list = $("#timeline");
const button = $("#timeline-older");
const status = $("#timeline-status");

function pad(n) {
  return String(n).padStart(2, "0");
}

function when(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function entry(row) {
  const item = el("li", { class: `entry kind-${row.kind}`, dataset: { id: String(row.id) } });
  item.append(el("time", { datetime: row.at, text: when(row.at) }), " ");
  item.append(el("span", { class: "kind", text: row.kind_label }), " ");
  if (row.subject) {
    const title = `${row.subject.number} · ${row.subject.title}`;
    item.append(
      row.subject.url
        ? el("a", { class: "subject", href: row.subject.url, text: title })
        : el("span", { class: "subject", text: title }),
      " ",
    );
  }
  item.append(el("span", { class: "verb", text: row.verb_label }));
  if (row.score !== null && row.score !== undefined) {
    item.append(" ", el("span", { class: "score", text: `${list.dataset.scoreLabel} ${row.score}` }));
  }
  if (row.actor) item.append(" ", el("span", { class: "actor", text: row.actor }));
  return item;
}

async function older() {
  const cursor = list.dataset.next;
  if (!cursor) return;
  button.disabled = true;
  status.textContent = "";
  try {
    const url = `${list.dataset.api}?${new URLSearchParams({ cursor })}`;
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    const page = await response.json();
    for (const row of page.results) list.append(entry(row));
    const next = page.next ? new URL(page.next, location.href).searchParams.get("cursor") : "";
    list.dataset.next = next || "";
    button.hidden = !next;
  } catch {
    status.textContent = list.dataset.error;
  } finally {
    button.disabled = false;
  }
}

if (list && button) button.addEventListener("click", older);
