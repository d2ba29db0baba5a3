// The complaint page (docs/ui.md, "Complaints"): each running clock counts down every second
// from its due moment, and the proposal form says whose limit of authority the typed
// compensation falls under. Every change is an ordinary form POST (a one-time token each);
// this module also keeps a form from being sent twice by a double click.
import { $, fmt } from "./dom.js";

const T = JSON.parse(document.getElementById("complaint-strings").textContent);
const LIMITS = JSON.parse(document.getElementById("complaint-authority").textContent);
const ORDER = ["handler", "supervisor", "manager"];

function duration(ms) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86400);
  const pad = (n) => String(n).padStart(2, "0");
  const clock = `${pad(Math.floor((total % 86400) / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return days ? `${days}d ${clock}` : clock;
}

function tick() {
  const now = Date.now();
  for (const cell of document.querySelectorAll("td.countdown[data-due]")) {
    const left = new Date(cell.dataset.due).getTime() - now;
    cell.textContent = left >= 0 ? fmt(T.left, { time: duration(left) }) : fmt(T.overdue, { time: duration(left) });
    cell.dataset.level = left < 0 ? "breached" : "running";
    cell.closest("tr")?.classList.toggle("overdue", left < 0);
  }
}
tick();
setInterval(tick, 1000);

// --- the limit a proposal falls under ---------------------------------------------------------
const amount = $("#propose-amount");
const limit = $("#propose-limit");
if (amount && limit) {
  const mine = limit.dataset.mine;
  const initial = limit.textContent;
  const levelOf = (value) => {
    for (const row of LIMITS) if (row.max_amount === null || value <= Number(row.max_amount)) return row;
    return LIMITS[LIMITS.length - 1];
  };
  const update = () => {
    const text = amount.value.trim().replace(",", ".");
    const value = text === "" ? 0 : Number(text);
    if (!Number.isFinite(value)) {
      limit.textContent = initial;
      return;
    }
    const row = levelOf(value);
    if (!row) return;
    const within = ORDER.indexOf(row.level) <= ORDER.indexOf(mine);
    limit.textContent = `${fmt(T.falls_under, { level: row.label })} — ${within ? T.within_mine : fmt(T.needs_approval, { level: row.label })}`;
    limit.dataset.level = row.level;
    limit.dataset.within = within ? "1" : "0";
    for (const tr of document.querySelectorAll("#authority-table tbody tr")) tr.classList.toggle("current", tr.dataset.level === row.level);
  };
  amount.addEventListener("input", update);
  update();
}

// --- once only: a double click sends a form once ----------------------------------------------
for (const form of document.querySelectorAll("#actions form")) {
  let sent = false;
  form.addEventListener("submit", (event) => {
    if (sent) {
      event.preventDefault();
      return;
    }
    sent = true;
    form.setAttribute("aria-busy", "true");
  });
}
const problem = $("#action-problem");
if (problem) problem.scrollIntoView({ block: "center" });
