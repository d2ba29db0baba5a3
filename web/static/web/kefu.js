// Kefu browser screens: the agent queue, a ticket, the supervisor board.
// Every change goes through the REST API; /ws/queue/ keeps the screens live.
import { $, cookie, el, fmt } from "./dom.js";
import { LiveSocket, RowStore, byDue, rowKey } from "./live.js";

const config = JSON.parse(document.getElementById("kefu-config").textContent);
const T = JSON.parse(document.getElementById("kefu-strings").textContent);
// A row waits on a person in these states: a ticket new or open, a complaint being handled.
const OPEN_STATUSES = new Set(["new", "open", "received", "investigating", "awaiting_approval", "quality_review"]);
const PRIORITY_UP = { P4: "P3", P3: "P2", P2: "P1" };

// --- small helpers --------------------------------------------------------------
class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** fetch() with the session cookie and CSRF header; errors carry the API's {"detail"}. */
async function api(method, url, body, idempotencyKey = null) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = cookie("csrftoken");
  }
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, T.network_error);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.detail || fmt(T.error, { status: response.status }));
  }
  return data;
}

// --- changes a person means once -----------------------------------------------------------
// A double click, a key held down or Enter pressed twice must not reply or act twice: while
// a change is in flight the same change gets the same answer instead of a second request,
// and every change carries an Idempotency-Key that the server honours. After a network
// failure the key is kept, so trying again cannot act twice if the first request went through.
const inFlight = new Map(); // intent -> promise of the answer
const keptKeys = new Map(); // intent -> key of a request whose answer never came

function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // also on plain http, unlike randomUUID
  return `web-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export function change(url, body = {}) {
  const intent = `${url} ${JSON.stringify(body)}`;
  const pending = inFlight.get(intent);
  if (pending) return pending;
  const key = keptKeys.get(intent) ?? newIdempotencyKey();
  const request = api("POST", url, body, key)
    .then(
      (data) => {
        keptKeys.delete(intent);
        return data;
      },
      (error) => {
        if (error.status === 0) keptKeys.set(intent, key);
        else keptKeys.delete(intent);
        throw error;
      },
    )
    .finally(() => inFlight.delete(intent));
  inFlight.set(intent, request);
  return request;
}

let toastTimer = null;
function toast(message, kind = "info") {
  const box = $("#toast");
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), 4000);
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// The queue holds work of every kind; tickets have the one-click actions of /api/tickets/,
// a complaint is handled on its own page.
const isComplaint = (row) => row.kind === "complaint";
const rowUrl = (row) => (isComplaint(row) ? `/complaints/${row.object_id}/` : `/tickets/${row.object_id}/`);
const priorityLabel = (row) => (isComplaint(row) ? T.severity : T.priority)[row.priority] ?? row.priority;
const statusLabel = (row) => (isComplaint(row) ? T.complaint_status : T.status)[row.status] ?? row.status;

const userName = (id) => (id == null ? T.unassigned : config.directory.users[id] ?? `#${id}`);
const teamName = (id) => (id == null ? "—" : config.directory.teams[id] ?? `#${id}`);

// --- history: an audit row's before/after as readable pairs ------------------------------
// The keys are those the services write (tickets/services/*.py, audit(...)); message ids are
// left out, the conversation shows the messages.
const HIDDEN_FIELDS = new Set(["message"]);
const FIELD_ORDER = new Map(Object.keys(T.field).map((field, index) => [field, index]));
const ISO_MOMENT = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;
const FIELD_VALUE = {
  status: (v) => T.status[v] ?? v,
  priority: (v) => T.priority[v] ?? v,
  assignee: (v) => config.directory.users[v] ?? `#${v}`,
  team: (v) => config.directory.teams[v] ?? `#${v}`,
  sla_policy: (v) => config.directory.policies?.[v] ?? `#${v}`,
  channel: (v) => T.channel[v] ?? v,
  action: (v) => T.escalation_action[v] ?? v,
  target: (v) => T.target[v] ?? v,
};

export function historyValue(field, value) {
  if (value == null || value === "") return "—";
  if (typeof value === "boolean") return value ? T.yes : T.no;
  if (FIELD_VALUE[field]) return String(FIELD_VALUE[field](value));
  if (typeof value === "string" && ISO_MOMENT.test(value)) {
    const moment = new Date(value);
    if (!Number.isNaN(moment.getTime())) return moment.toLocaleString();
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** `Field: before → after` for each key an event changed (`Field: value` for a new fact). */
function historyChanges(event) {
  const before = event.before || {};
  const after = event.after || {};
  const nodes = [];
  // jsonb keeps no key order: known fields in the order of T.field, then any others.
  const rank = (field) => FIELD_ORDER.get(field) ?? FIELD_ORDER.size;
  const fields = [...new Set([...Object.keys(after), ...Object.keys(before)])];
  for (const field of fields.sort((a, b) => rank(a) - rank(b))) {
    if (HIDDEN_FIELDS.has(field)) continue;
    const had = Object.hasOwn(before, field);
    const has = Object.hasOwn(after, field);
    if (had && has && JSON.stringify(before[field]) === JSON.stringify(after[field])) continue;
    if (!had && (after[field] == null || after[field] === "")) continue; // an empty optional reason
    const value = had
      ? `${historyValue(field, before[field])} → ${historyValue(field, has ? after[field] : null)}`
      : historyValue(field, after[field]);
    if (nodes.length) nodes.push("; ");
    nodes.push(
      el("span", { class: "change", dataset: { field } }, el("span", { class: "field", text: T.field[field] ?? field }), `: ${value}`),
    );
  }
  return nodes;
}

// --- SLA and age ----------------------------------------------------------------
function duration(ms) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  const clock = `${pad(h)}:${pad(m)}:${pad(s)}`;
  return d ? `${d}d ${clock}` : clock;
}

function age(ms) {
  const minutes = Math.floor(ms / 60000);
  if (minutes < 1) return `${Math.max(0, Math.floor(ms / 1000))}s`;
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** The SLA state of a row now: its text and level ("ok", "warning", "breached", "paused"). */
export function slaState(row, now = Date.now()) {
  if (row.paused) return { text: T.paused, level: "paused" };
  if (!row.due) return { text: "—", level: row.breached ? "breached" : "ok" };
  const due = Date.parse(row.due);
  const left = due - now;
  if (row.breached || left < 0) {
    return { text: left < 0 ? `−${duration(left)}` : T.overdue, level: "breached" };
  }
  const budget = due - Date.parse(row.created);
  const near = row.warning || (budget > 0 && left < budget * 0.2);
  return { text: duration(left), level: near ? "warning" : "ok" };
}

function paintSla(cell, row, now) {
  const state = slaState(row, now);
  if (cell.textContent !== state.text) cell.textContent = state.text;
  if (cell.dataset.level !== state.level) {
    cell.dataset.level = state.level;
    return true;
  }
  return false;
}

// --- connection indicator and notifications ---------------------------------------
function showConnection(state) {
  const box = $("#connection");
  if (!box) return;
  box.dataset.state = state;
  $(".label", box).textContent = { live: T.live, connecting: T.connecting, offline: T.offline }[
    state
  ];
}

const bell = {
  unread: 0,
  setUnread(count) {
    this.unread = Math.max(0, Number(count) || 0);
    const badge = $("#unread");
    badge.textContent = String(this.unread);
    badge.hidden = this.unread === 0;
  },
  init() {
    const button = $("#bell");
    const panel = $("#notifications");
    button.addEventListener("click", async () => {
      const open = panel.hidden;
      panel.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      if (open) await this.load();
    });
    $("#read-all").addEventListener("click", async () => {
      try {
        const data = await api("POST", "/api/notifications/read-all/", {});
        this.setUnread(data.unread);
        await this.load();
      } catch (error) {
        toast(error.message, "error");
      }
    });
    document.addEventListener("click", (event) => {
      if (!panel.hidden && !event.target.closest(".bell-wrap")) {
        panel.hidden = true;
        button.setAttribute("aria-expanded", "false");
      }
    });
  },
  async load() {
    const list = $("#notification-list");
    try {
      const data = await api("GET", "/api/notifications/");
      this.setUnread(data.unread);
      list.replaceChildren(...data.results.map((n) => this.item(n)));
      if (!data.results.length) list.append(el("li", { class: "empty", text: T.empty_notifications }));
    } catch (error) {
      list.replaceChildren(el("li", { class: "error", text: error.message }));
    }
  },
  item(n) {
    const open = async () => {
      if (!n.read) {
        try {
          const data = await api("POST", `/api/notifications/${n.id}/read/`, {});
          this.setUnread(data.unread);
        } catch (error) {
          toast(error.message, "error");
        }
      }
      // an approval's notification names its complaint (subject kind complaint_approval)
      const complaint = n.subject_kind === "complaint" || n.subject_kind === "complaint_approval";
      if (complaint && n.object_id) location.href = `/complaints/${n.object_id}/`;
      else if (n.ticket) location.href = `/tickets/${n.ticket}/`;
      else this.load();
    };
    return el(
      "li",
      { class: n.read ? "read" : "unread" },
      el("button", { type: "button", class: "link", onclick: open, text: n.title }),
      el("time", { datetime: n.created, text: new Date(n.created).toLocaleString() }),
    );
  },
  received(message) {
    this.setUnread(message.unread);
    const panel = $("#notifications");
    if (!panel.hidden && message.notification) {
      $("#notification-list").prepend(this.item(message.notification));
    }
    if (message.notification?.title) toast(message.notification.title);
  },
};

// --- the agent's own Online / Away switch ---------------------------------------------------
// The choice is the agent's, not the tab's: every page and tab shows it and the server keeps
// it until switched again. It goes over the socket, so it is off while the socket is down.
const presenceSwitch = {
  select: null,
  init(socket) {
    this.select = $("#my-presence");
    if (!this.select) return;
    this.select.addEventListener("change", () => {
      const status = this.select.value;
      this.select.disabled = true;
      if (!socket.send({ type: "presence", status })) {
        this.show(this.select.dataset.state);
        toast(T.offline, "error");
      }
    });
  },
  show(status) {
    if (!this.select || (status !== "online" && status !== "away")) return;
    this.select.value = status;
    this.select.dataset.state = status;
    this.select.disabled = false;
  },
  connection(state) {
    if (this.select) this.select.disabled = state !== "live";
  },
};

// --- the queue table (agent queue and board) ---------------------------------------
class QueueTable {
  constructor(id, { belongs, compare = byDue, board = false, url = "/api/queue/" }) {
    this.table = document.getElementById(id);
    this.tbody = $("tbody", this.table);
    this.empty = document.getElementById(`${id}-empty`);
    this.more = document.getElementById(`${id}-more`);
    this.store = new RowStore(belongs);
    this.compare = compare;
    this.board = board;
    this.url = url;
    this.trs = new Map();
    this.selected = null;
    this.cursor = config.cursor;
    this.listeners = [];
    this.store.replace(config.rows || []);
    this.more.addEventListener("click", () => this.loadMore());
    this.render();
    setInterval(() => this.tick(), 1000);
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  apply(message) {
    if (this.store.apply(message)) this.render();
  }

  /** Replace the list with the server's (after a reconnect); events meanwhile are replayed. */
  async resync() {
    this.store.beginResync();
    try {
      const data = await api("GET", this.url);
      this.cursor = data.cursor;
      this.store.replace(data.results);
    } catch (error) {
      this.store.abortResync();
      toast(error.message, "error");
    }
    this.render();
  }

  async loadMore() {
    if (!this.cursor) return;
    const sep = this.url.includes("?") ? "&" : "?";
    try {
      const data = await api("GET", `${this.url}${sep}cursor=${encodeURIComponent(this.cursor)}`);
      this.cursor = data.cursor;
      this.store.extend(data.results);
      this.render();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  rowsInOrder() {
    return this.store.sorted(this.compare);
  }

  render() {
    const now = Date.now();
    const rows = this.rowsInOrder();
    const wanted = new Set(rows.map(rowKey));
    for (const [id, tr] of this.trs) {
      if (!wanted.has(id)) {
        tr.remove();
        this.trs.delete(id);
      }
    }
    rows.forEach((row, index) => {
      const key = rowKey(row);
      let tr = this.trs.get(key);
      if (!tr) {
        tr = this.createRow(row);
        this.trs.set(key, tr);
      }
      if (Number(tr.dataset.version) !== row.version) this.fillRow(tr, row, now);
      // Move only the rows that are out of place: no re-insertion, no flicker.
      const current = this.tbody.children[index];
      if (current !== tr) this.tbody.insertBefore(tr, current ?? null);
    });
    if (this.selected != null && !wanted.has(this.selected)) this.selected = null;
    this.paintSelection();
    this.empty.textContent = T.empty_queue;
    this.empty.hidden = rows.length > 0;
    this.more.hidden = !this.cursor;
    for (const fn of this.listeners) fn(rows);
  }

  createRow(row) {
    const key = rowKey(row);
    const tr = el("tr", { dataset: { id: row.object_id, kind: row.kind ?? "ticket", key }, tabindex: "-1" });
    const link = el("a", { href: rowUrl(row), class: "number" });
    tr.append(
      el("td", {}, link),
      el("td", { class: "title" }),
      el("td", { class: "priority" }),
      el("td", { class: "tier" }),
      el("td", { class: "status" }),
      el("td", { class: "assignee" }),
      el("td", { class: "team" }),
      el("td", { class: "sla" }),
      el("td", { class: "age" }),
    );
    if (this.board) {
      tr.draggable = !isComplaint(row); // dropped on an agent: a ticket's assign action
      tr.addEventListener("dragstart", (event) => {
        event.dataTransfer.setData("text/x-kefu-ticket", String(row.object_id));
        event.dataTransfer.effectAllowed = "move";
        tr.classList.add("dragging");
      });
      tr.addEventListener("dragend", () => tr.classList.remove("dragging"));
      tr.append(el("td", { class: "row-actions" }));
    }
    tr.addEventListener("click", (event) => {
      if (event.target.closest("a, button, select")) return;
      this.select(key);
    });
    tr.addEventListener("dblclick", () => (location.href = rowUrl(row)));
    return tr;
  }

  fillRow(tr, row, now) {
    tr.dataset.version = String(row.version);
    tr.dataset.number = row.number;
    const cells = tr.children;
    cells[0].firstChild.textContent = row.number;
    cells[1].textContent = row.title;
    cells[2].replaceChildren(
      el("span", { class: `prio prio-${row.priority}`, title: priorityLabel(row), text: row.priority }),
    );
    cells[3].replaceChildren(
      row.customer_tier
        ? el("span", { class: `tier tier-${row.customer_tier}`, text: T.tier[row.customer_tier] ?? row.customer_tier })
        : "—",
    );
    cells[4].textContent = statusLabel(row);
    cells[5].textContent = userName(row.assignee);
    cells[6].textContent = teamName(row.team);
    tr._row = row;
    paintSla(cells[7], row, now);
    cells[8].textContent = age(now - Date.parse(row.created));
    tr.classList.toggle("breached", cells[7].dataset.level === "breached");
    tr.classList.toggle("warning", cells[7].dataset.level === "warning");
    tr.classList.toggle("escalated", (row.escalation_level ?? 0) > 0 && !row.acknowledged);
    if (this.board) this.fillActions(cells[9], row);
  }

  fillActions(cell, row) {
    if (isComplaint(row)) {
      // Assigned, approved and escalated on the complaint's own page.
      cell.replaceChildren(el("a", { href: rowUrl(row), class: "small open-complaint", text: T.open_complaint }));
      return;
    }
    const select = el(
      "select",
      { "aria-label": `${T.agent} ${row.number}`, class: "assign" },
      el("option", { value: "", text: `${T.agent}…` }),
    );
    for (const agent of board.agents.filter((a) => row.team == null || a.teams.includes(row.team))) {
      select.append(
        el("option", { value: agent.id, selected: agent.id === row.assignee, text: agent.name || agent.username }),
      );
    }
    select.addEventListener("change", () => {
      if (select.value) assignTicket(row.object_id, Number(select.value));
    });
    const raise = PRIORITY_UP[row.priority]
      ? el("button", {
          type: "button",
          class: "small",
          title: T.priority[PRIORITY_UP[row.priority]],
          text: `↑ ${PRIORITY_UP[row.priority]}`,
          onclick: () => raisePriority(row),
        })
      : null;
    const ack =
      (row.escalation_level ?? 0) > 0 && !row.acknowledged
        ? el("button", { type: "button", class: "small", text: "✓", title: T.acknowledged, onclick: () => acknowledge(row) })
        : null;
    cell.replaceChildren(select, raise ?? "", ack ?? "");
  }

  tick() {
    const now = Date.now();
    let moved = false;
    for (const tr of this.trs.values()) {
      const row = tr._row;
      if (!row) continue;
      const cells = tr.children;
      if (paintSla(cells[7], row, now)) {
        moved = true;
        tr.classList.toggle("breached", cells[7].dataset.level === "breached");
        tr.classList.toggle("warning", cells[7].dataset.level === "warning");
      }
      cells[8].textContent = age(now - Date.parse(row.created));
    }
    if (moved && this.board) this.render();
  }

  // selection and keyboard
  select(id) {
    this.selected = id;
    this.paintSelection();
    const tr = this.trs.get(id);
    if (tr) {
      tr.focus({ preventScroll: true });
      tr.scrollIntoView({ block: "nearest" });
    }
  }

  paintSelection() {
    for (const [id, tr] of this.trs) {
      const on = id === this.selected;
      tr.classList.toggle("selected", on);
      tr.setAttribute("aria-selected", String(on));
    }
  }

  move(step) {
    const ids = [...this.tbody.children].map((tr) => tr.dataset.key);
    if (!ids.length) return;
    const at = ids.indexOf(this.selected);
    const next = at < 0 ? (step > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + step));
    this.select(ids[next]);
  }

  selectedRow() {
    return this.selected == null ? null : this.store.rows.get(this.selected) ?? null;
  }
}

async function claimTicket(row) {
  try {
    await change(`/api/tickets/${row.object_id}/claim/`);
    toast(fmt(T.claimed, { number: row.number }));
  } catch (error) {
    toast(error.message, "error");
  }
}

function bindQueueKeys(table) {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    if ($("#help").open) return;
    switch (event.key) {
      case "j":
        table.move(1);
        break;
      case "k":
        table.move(-1);
        break;
      case "Enter": {
        const row = table.selectedRow();
        if (!row) return;
        location.href = rowUrl(row);
        break;
      }
      case "c": {
        const row = table.selectedRow();
        if (!row) toast(T.no_selection);
        else if (isComplaint(row)) toast(fmt(T.complaint_on_its_page, { number: row.number }));
        else claimTicket(row);
        break;
      }
      default:
        return;
    }
    event.preventDefault();
  });
}

// --- the supervisor board ----------------------------------------------------------
// presenceSeen: the newest presence event per agent, numbered, so that a board snapshot asked
// for before an event cannot put the agent's older presence back on screen.
const board = { agents: [], teams: [], presenceSeq: 0, presenceSeen: new Map() };

function boardRank(row, now = Date.now()) {
  const level = slaState(row, now).level;
  return level === "breached" ? 0 : level === "warning" ? 1 : 2;
}

async function assignTicket(ticketId, agentId) {
  try {
    const ticket = await change(`/api/tickets/${ticketId}/assign/`, { assignee: agentId });
    toast(fmt(T.assigned, { number: ticket.number, name: userName(agentId) }));
  } catch (error) {
    toast(error.message, "error");
  }
}

async function raisePriority(row) {
  const priority = PRIORITY_UP[row.priority];
  try {
    await change(`/api/tickets/${row.object_id}/priority/`, { priority });
    toast(fmt(T.priority_raised, { number: row.number, priority }));
  } catch (error) {
    toast(error.message, "error");
  }
}

async function acknowledge(row) {
  try {
    await change(`/api/tickets/${row.object_id}/acknowledge/`);
    toast(T.acknowledged);
  } catch (error) {
    toast(error.message, "error");
  }
}

function renderAgents() {
  const list = $("#agent-list");
  list.replaceChildren(
    ...board.agents.map((agent) => {
      const item = el(
        "li",
        { class: "agent", dataset: { agent: agent.id, presence: agent.presence }, title: T.drop_here },
        el("span", { class: "presence-dot", "aria-hidden": "true" }),
        el("span", { class: "agent-name", text: agent.name || agent.username }),
        el("span", { class: "presence", text: T.presence[agent.presence] ?? agent.presence }),
        el("span", { class: "load", text: `${agent.load}/${agent.capacity ?? "∞"}` }),
      );
      item.addEventListener("dragover", (event) => {
        if (![...event.dataTransfer.types].includes("text/x-kefu-ticket")) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        item.classList.add("drop");
      });
      item.addEventListener("dragleave", () => item.classList.remove("drop"));
      item.addEventListener("drop", (event) => {
        event.preventDefault();
        item.classList.remove("drop");
        const id = Number(event.dataTransfer.getData("text/x-kefu-ticket"));
        if (id) assignTicket(id, agent.id);
      });
      return item;
    }),
  );
}

function renderCounters() {
  const body = $("#team-counters tbody");
  body.replaceChildren(
    ...board.teams.map((team) =>
      el(
        "tr",
        { dataset: { team: team.id } },
        el("th", { scope: "row", text: team.name }),
        el("td", { class: "open", text: String(team.open) }),
        el("td", { class: "unassigned", text: String(team.unassigned) }),
        el("td", { class: team.near_breach ? "near warning" : "near", text: String(team.near_breach) }),
        el("td", { class: team.breached ? "breached-count breached" : "breached-count", text: String(team.breached) }),
        el("td", { class: "oldest", text: team.oldest ? age(Date.now() - Date.parse(team.oldest)) : "—" }),
      ),
    ),
  );
}

/** Counters computed from the rows on screen, while /api/board/ cannot be read. */
function countersFromRows(rows) {
  const teams = new Map();
  const now = Date.now();
  for (const row of rows) {
    const key = row.team ?? 0;
    const team = teams.get(key) ?? { id: key, name: teamName(row.team), open: 0, unassigned: 0, near_breach: 0, breached: 0, oldest: null };
    team.open += 1;
    if (row.assignee == null) team.unassigned += 1;
    const level = slaState(row, now).level;
    if (level === "breached") team.breached += 1;
    if (level === "warning") team.near_breach += 1;
    if (!team.oldest || Date.parse(row.created) < Date.parse(team.oldest)) team.oldest = row.created;
    teams.set(key, team);
  }
  return [...teams.values()];
}

/** The complaints panel: counts per severity, overdue, awaiting approval, breached. */
async function loadComplaintCounters() {
  const panel = $("#complaint-counters");
  if (!panel) return;
  try {
    const counts = await api("GET", panel.dataset.url);
    for (const cell of panel.querySelectorAll("[data-count]")) {
      const value = counts[cell.dataset.count];
      if (value === undefined) continue;
      cell.textContent = String(value);
      cell.classList.toggle("nonzero", value > 0);
    }
  } catch {
    /* the next event tries again */
  }
}

async function loadBoard(table) {
  loadComplaintCounters();
  const asked = board.presenceSeq;
  try {
    const data = await api("GET", "/api/board/");
    for (const agent of data.agents) {
      const seen = board.presenceSeen.get(agent.id);
      if (seen && seen.seq > asked) agent.presence = seen.presence;
    }
    board.teams = data.teams;
    board.agents = data.agents;
    for (const agent of data.agents) config.directory.users[agent.id] = agent.name || agent.username;
    for (const team of data.teams) config.directory.teams[team.id] = team.name;
  } catch {
    board.teams = countersFromRows(table.rowsInOrder());
  }
  renderCounters();
  renderAgents();
  for (const tr of table.trs.values()) tr.dataset.version = ""; // refill names and selects
  table.render();
}

// --- the ticket page -----------------------------------------------------------------
function ticketPage() {
  const id = config.ticket;
  let version = config.version;
  let connectedOnce = false;

  const authorOf = (m) => (m.author ? userName(m.author) : m.contact ? T.customer : T.system);

  // The conversation: who wrote to whom, by which channel, whether the email reached the
  // customer (the outbox's state), and the files that came with each message.
  const DIRECTION_CLASS = { inbound: "customer", outbound: "public", internal: "internal" };
  let latestFromCustomer = null; // the text the reply box's quote button quotes

  function fileSize(bytes) {
    if (bytes < 1024) return fmt(T.thread.bytes, { size: bytes });
    if (bytes < 1024 * 1024) return fmt(T.thread.kilobytes, { size: (bytes / 1024).toFixed(bytes < 10240 ? 1 : 0) });
    return fmt(T.thread.megabytes, { size: (bytes / 1048576).toFixed(1) });
  }

  function deliveryOf(delivery) {
    if (!delivery) return [];
    const { status, sent_at: sentAt, error } = delivery;
    let text = T.thread.delivery[status] ?? status;
    if (status === "sent" && sentAt) text = fmt(T.thread.sent_at, { when: new Date(sentAt).toLocaleString() });
    else if (status === "queued" && error) text = T.thread.retrying;
    const nodes = [el("span", { class: "delivery", dataset: { status }, text })];
    if (error && status !== "sent") {
      nodes.push(el("p", { class: "delivery-error", text: fmt(T.thread.server_said, { error }) }));
    }
    return nodes;
  }

  function attachmentList(attachments) {
    if (!attachments?.length) return null;
    return el(
      "ul",
      { class: "attachments", "aria-label": T.thread.attachments },
      ...attachments.map((a) =>
        el(
          "li",
          {},
          el("a", { href: a.url, download: a.name, text: a.original ? fmt(T.thread.original, { name: a.name }) : a.name }),
          el("span", { class: "size", text: fileSize(a.size) }),
        ),
      ),
    );
  }

  function messageItem(m) {
    const direction = m.direction ?? (m.internal ? "internal" : m.contact ? "inbound" : "outbound");
    const [badge, problem] = deliveryOf(m.delivery);
    return el(
      "li",
      { class: `message ${DIRECTION_CLASS[direction] ?? "public"}`, dataset: { id: String(m.id), direction } },
      el(
        "div",
        { class: "meta" },
        el("strong", { text: authorOf(m) }),
        el("span", { class: "kind direction", text: T.thread.direction[direction] ?? direction }),
        m.channel ? el("span", { class: "channel", text: T.thread.channel[m.channel] ?? m.channel }) : null,
        el("time", { datetime: m.created, text: new Date(m.created).toLocaleString() }),
        badge,
      ),
      el("p", { class: "body", text: m.body }),
      problem,
      attachmentList(m.attachments),
    );
  }

  async function loadMessages() {
    const list = $("#messages");
    try {
      const messages = await api("GET", `/api/tickets/${id}/messages/`);
      list.replaceChildren(...messages.map(messageItem));
      if (!messages.length) list.append(el("li", { class: "empty", text: T.no_messages }));
      const fromCustomer = messages.filter((m) => (m.direction ?? (m.contact ? "inbound" : "")) === "inbound");
      latestFromCustomer = fromCustomer.length ? fromCustomer[fromCustomer.length - 1].body : null;
    } catch (error) {
      list.replaceChildren(el("li", { class: "error", text: error.message }));
    }
    paintQuoteButton();
  }

  // --- quoting the customer's latest message in the reply ---------------------------------
  // An email (or web form) ticket's description is the customer's own first message: it is
  // quoted while no later message came from the customer.
  const openingWords = document.getElementById("ticket-opening-words");
  const quoteButton = $("#reply-quote");

  function quotable() {
    if (latestFromCustomer) return latestFromCustomer;
    return openingWords ? JSON.parse(openingWords.textContent) : null;
  }

  function paintQuoteButton() {
    if (!quoteButton) return;
    const text = quotable();
    quoteButton.disabled = !text;
    quoteButton.title = text ? "" : T.thread.nothing_to_quote;
  }

  /** ``> `` before every line, a blank line after: what mail readers show as a quote. */
  function asQuote(text) {
    const lines = text.replace(/\s+$/, "").split(/\r?\n/);
    return `${lines.map((line) => (line ? `> ${line}` : ">")).join("\n")}\n\n`;
  }

  function insertQuote() {
    const text = quotable();
    if (!text) return;
    const box = $("#reply-body");
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? start;
    const before = box.value.slice(0, start);
    const lead = before && !before.endsWith("\n") ? "\n\n" : before && !before.endsWith("\n\n") ? "\n" : "";
    const quote = lead + asQuote(text);
    box.setRangeText(quote, start, end, "end");
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  quoteButton?.addEventListener("click", insertQuote);

  async function loadHistory() {
    const list = $("#history");
    try {
      const events = await api("GET", `/api/tickets/${id}/history/`);
      list.replaceChildren(
        ...events.map((e) => {
          const changes = historyChanges(e);
          return el(
            "li",
            {},
            el("time", { datetime: e.at, text: new Date(e.at).toLocaleString() }),
            " ",
            el("strong", { text: e.actor ? userName(e.actor) : T.system }),
            " ",
            el("span", { class: "verb", text: T.verb[e.verb] ?? e.verb }),
            changes.length ? el("span", { class: "changes" }, " — ", ...changes) : null,
          );
        }),
      );
      if (!events.length) list.append(el("li", { class: "empty", text: T.no_history }));
    } catch (error) {
      list.replaceChildren(el("li", { class: "error", text: error.message }));
    }
  }

  async function loadOtherTickets() {
    const list = $("#other-tickets");
    if (!list || !config.customer) return;
    try {
      const data = await api("GET", `/api/tickets/?customer=${config.customer}`);
      const others = data.results.filter((t) => t.id !== id);
      list.replaceChildren(
        ...others.map((t) =>
          el(
            "li",
            {},
            el("a", { href: `/tickets/${t.id}/`, text: t.number }),
            ` ${t.subject} `,
            el("span", { class: `status status-${t.status}`, text: T.status[t.status] ?? t.status }),
          ),
        ),
      );
      if (!others.length) list.append(el("li", { class: "empty", text: T.no_other_tickets }));
    } catch (error) {
      list.replaceChildren(el("li", { class: "error", text: error.message }));
    }
  }

  /** Re-read the server-rendered parts (header, process) and the lists. */
  async function refresh() {
    try {
      const response = await fetch(location.href, { credentials: "same-origin" });
      if (response.ok) {
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        // A refresh replaces the header's buttons: the one that had the focus keeps it.
        const focused = document.activeElement?.closest?.("#actions [data-act]")?.dataset.act;
        for (const fresh of doc.querySelectorAll("[data-live]")) {
          const old = document.getElementById(fresh.id);
          if (old) old.replaceWith(document.importNode(fresh, true));
        }
        if (focused) actionButton(focused)?.focus();
        version = Number($("#ticket-head").dataset.version) || version;
        // Names the history may now need (a new actor, another team) come with the page.
        const fresh = doc.getElementById("kefu-config");
        if (fresh) config.directory = JSON.parse(fresh.textContent).directory;
        bindActions();
        paintHeaderSla();
      }
    } catch {
      /* the next event or reconnect refreshes again */
    }
    await Promise.all([loadMessages(), loadHistory()]);
  }

  function showError(message) {
    const box = $("#action-error");
    box.textContent = message;
    box.hidden = !message;
  }

  /** One action through the API; true when it went through (errors show in #action-error). */
  async function act(name, body = {}) {
    showError("");
    try {
      await change(`/api/tickets/${id}/${name}/`, body);
    } catch (error) {
      showError(error.message);
      return false;
    }
    toast(T.saved);
    await refresh();
    return true;
  }

  // Resolve, hold, reopen and close open the inline form first; the others are one click.
  const form = $("#action-form");
  const formBody = $("#action-form-body");
  const formSubmit = $("#action-form-submit");
  let formAction = null; // the action the open form is for
  const actionButton = (name) => document.querySelector(`#actions [data-act="${name}"]`);

  function markExpanded() {
    for (const button of document.querySelectorAll("#actions [data-act]")) {
      if (!T.action_form[button.dataset.act]) continue;
      button.setAttribute("aria-controls", "action-form");
      button.setAttribute("aria-expanded", String(button.dataset.act === formAction));
    }
  }

  function showProblem(message) {
    const box = $("#action-form-problem");
    box.textContent = message;
    box.hidden = !message;
    formBody.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function openForm(name) {
    const texts = T.action_form[name];
    if (formAction !== name) {
      formBody.value = "";
      showProblem("");
    }
    formAction = name;
    form.dataset.action = name;
    showError("");
    $("#action-form-title").textContent = texts.title;
    const note = $("#action-form-text");
    note.textContent = texts.text ?? texts.hint ?? "";
    note.hidden = !note.textContent;
    const asks = Boolean(texts.label);
    $("#action-form-label").textContent = texts.label ?? "";
    $("#action-form-label").hidden = !asks;
    formBody.hidden = !asks;
    formBody.required = name === "resolve";
    formSubmit.textContent = texts.submit;
    form.hidden = false;
    markExpanded();
    (asks ? formBody : formSubmit).focus();
  }

  function closeForm() {
    if (formAction === null) return;
    const name = formAction;
    formAction = null;
    delete form.dataset.action;
    form.hidden = true;
    formBody.value = "";
    showProblem("");
    markExpanded();
    // Back to the button that opened it, or to the first action left after a change of state.
    (actionButton(name) ?? document.querySelector("#actions [data-act]"))?.focus();
  }

  async function submitForm() {
    const name = formAction;
    if (name === null || formSubmit.disabled) return;
    const text = formBody.value.trim();
    if (name === "resolve" && !text) {
      showProblem(T.resolution_required);
      formBody.focus();
      return;
    }
    showProblem("");
    const body = name === "resolve" ? { resolution: text } : name === "close" ? {} : { reason: text };
    formSubmit.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      if (await act(name, body)) closeForm();
    } finally {
      formSubmit.disabled = false;
      form.removeAttribute("aria-busy");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitForm();
  });
  $("#action-form-cancel").addEventListener("click", closeForm);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeForm();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submitForm();
    }
  });

  async function oneClick(button) {
    button.disabled = true;
    try {
      await act(button.dataset.act);
    } finally {
      button.disabled = false; // a no-op on a button a refresh has replaced
    }
  }

  /** The header's buttons are replaced on every refresh: bind the new ones. */
  function bindActions() {
    for (const button of document.querySelectorAll("#actions [data-act]")) {
      button.addEventListener("click", () => {
        if (T.action_form[button.dataset.act]) openForm(button.dataset.act);
        else oneClick(button);
      });
    }
    markExpanded();
  }

  function paintHeaderSla() {
    const cell = $("#ticket-head .sla");
    if (!cell) return;
    const row = {
      due: cell.dataset.due || null,
      created: cell.dataset.created,
      breached: cell.dataset.breached === "1",
      paused: cell.dataset.paused === "1",
    };
    paintSla(cell, row, Date.now());
  }

  const replySend = $("#reply-form button[type=submit]");
  $("#reply-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = $("#reply-body").value.trim();
    if (!body || replySend.disabled) return;
    const internal = $("#reply-internal").checked;
    showError("");
    replySend.disabled = true;
    $("#reply-form").setAttribute("aria-busy", "true");
    try {
      await change(`/api/tickets/${id}/reply/`, { body, internal });
      $("#reply-body").value = "";
      await refresh();
    } catch (error) {
      showError(error.message);
    } finally {
      replySend.disabled = false;
      $("#reply-form").removeAttribute("aria-busy");
    }
  });
  $("#reply-internal").addEventListener("change", (event) => {
    $("#reply-form").classList.toggle("internal", event.target.checked);
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select, form") || event.ctrlKey || event.metaKey) return;
    if (event.key === "c") {
      event.preventDefault();
      act("claim");
    }
  });

  bindActions();
  paintHeaderSla();
  setInterval(paintHeaderSla, 1000);
  loadMessages();
  loadHistory();
  loadOtherTickets();

  return {
    event(message) {
      const object = message.object;
      if ((object?.kind ?? "ticket") !== "ticket") return;
      if (object?.object_id === id && Number(message.version) > version) {
        version = Number(message.version);
        refresh();
      }
    },
    resync() {
      // The first hello follows the page's own loads; later ones follow a drop.
      if (connectedOnce) refresh();
      connectedOnce = true;
    },
  };
}

// --- wiring --------------------------------------------------------------------------
function start() {
  bell.init();
  const help = $("#help");
  document.addEventListener("keydown", (event) => {
    if (event.key === "?" && !event.target.closest("input, textarea, select")) {
      event.preventDefault();
      if (!help.open) help.showModal();
    }
  });
  for (const button of document.querySelectorAll("[data-action=help]")) {
    button.addEventListener("click", () => help.showModal());
  }

  let onEvent = () => {};
  let onHello = () => {};
  let onPresence = () => {};

  if (config.page === "queue") {
    const mine = (row) =>
      OPEN_STATUSES.has(row.status) &&
      (row.assignee === config.me || (row.assignee == null && config.teams.includes(row.team)));
    const table = new QueueTable("queue", { belongs: mine });
    bindQueueKeys(table);
    onEvent = (m) => table.apply(m);
    onHello = () => table.resync();
    window.kefu = { table };
  } else if (config.page === "board") {
    const compare = (a, b) => boardRank(a) - boardRank(b) || byDue(a, b);
    const table = new QueueTable("board-queue", {
      belongs: (row) => OPEN_STATUSES.has(row.status),
      compare,
      board: true,
      url: "/api/queue/?all=1",
    });
    bindQueueKeys(table);
    const refreshBoard = debounce(() => loadBoard(table), 500);
    loadBoard(table);
    onEvent = (m) => {
      table.apply(m);
      refreshBoard();
    };
    onHello = async () => {
      await table.resync();
      refreshBoard();
    };
    onPresence = (m) => {
      board.presenceSeen.set(m.agent.id, { seq: ++board.presenceSeq, presence: m.agent.presence });
      const agent = board.agents.find((a) => a.id === m.agent.id);
      if (agent) Object.assign(agent, m.agent);
      else refreshBoard(); // the server decides who can take work (tickets.selectors.assignable_agents)
      renderAgents();
    };
    window.kefu = { table };
  } else if (config.page === "ticket") {
    const page = ticketPage();
    onEvent = (m) => page.event(m);
    onHello = () => page.resync();
  }

  const socket = new LiveSocket(config.ws, {
    state(name) {
      showConnection(name);
      presenceSwitch.connection(name);
    },
    hello(message) {
      bell.setUnread(message.unread);
      presenceSwitch.show(message.presence);
      onHello(message);
    },
    message(message) {
      if (message.type === "queue.event") onEvent(message);
      // My teams or roles changed: the socket moved groups, the screen resyncs (docs/security.md).
      else if (message.type === "access") onHello(message);
      else if (message.type === "notification") bell.received(message);
      else if (message.type === "presence.ack") presenceSwitch.show(message.presence);
      else if (message.type === "presence") {
        if (message.agent?.id === config.me) presenceSwitch.show(message.agent.presence);
        onPresence(message);
      }
    },
    refused(code) {
      if (code === 4401) location.href = `/login/?next=${encodeURIComponent(location.pathname)}`;
    },
  });
  presenceSwitch.init(socket);
  socket.connect();
  window.kefuSocket = socket;
}

start();
