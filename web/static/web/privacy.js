// Privacy requests (docs/customers-privacy.md): each open request's statutory clock counts
// down every second from its due moment.
import { fmt } from "./dom.js";

const T = JSON.parse(document.getElementById("privacy-strings").textContent);

function duration(ms) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86400);
  const pad = (n) => String(n).padStart(2, "0");
  const clock = `${pad(Math.floor((total % 86400) / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return days ? `${days}d ${clock}` : clock;
}

function tick() {
  const now = Date.now();
  for (const cell of document.querySelectorAll(".countdown[data-due]")) {
    const left = new Date(cell.dataset.due).getTime() - now;
    cell.textContent = left >= 0 ? fmt(T.left, { time: duration(left) }) : fmt(T.overdue, { time: duration(left) });
    cell.dataset.level = left < 0 ? "breached" : "running";
  }
}
tick();
setInterval(tick, 1000);
