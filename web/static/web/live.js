// Kefu live layer: the WebSocket with heartbeat and reconnect, and the versioned row store.
// No framework, no build step; imported by kefu.js.

/** Exponential backoff with jitter: 0.5 s, 1 s, 2 s … capped at 15 s, each scaled by 50–100 %. */
export function backoffDelay(attempt, base = 500, cap = 15000, random = Math.random) {
  const ceiling = Math.min(cap, base * 2 ** attempt);
  return Math.round(ceiling * (0.5 + random() / 2));
}

/**
 * One connection to /ws/queue/ that keeps itself alive.
 * handlers: {state(name), hello(msg), message(msg), refused(code)}
 * States: "connecting", "live", "offline".
 */
export class LiveSocket {
  constructor(path, handlers) {
    this.path = path;
    this.handlers = handlers;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.heartbeat = null;
    this.lastHeard = 0;
    this.stopped = false;
    window.addEventListener("offline", () => this.drop());
    window.addEventListener("online", () => {
      this.attempt = 0;
      this.reconnectNow();
    });
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${this.path}`;
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = null;
    if (!navigator.onLine) {
      this.handlers.state("offline");
      return; // the "online" event reconnects
    }
    this.handlers.state("connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this.lastHeard = Date.now();
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (msg.type === "hello") {
        this.attempt = 0;
        this.startHeartbeat(Number(msg.heartbeat) || 25);
        this.handlers.state("live");
        this.handlers.hello(msg);
      } else if (msg.type !== "pong") {
        this.handlers.message(msg);
      }
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.closed(event.code);
    };
    ws.onerror = () => {}; // onclose follows and decides
  }

  closed(code) {
    this.stopHeartbeat();
    this.ws = null;
    if (code === 4401 || code === 4403) {
      this.stopped = true;
      this.handlers.state("offline");
      this.handlers.refused(code);
      return;
    }
    this.handlers.state("offline");
    this.schedule();
  }

  schedule() {
    if (this.stopped || this.timer) return;
    const delay = backoffDelay(this.attempt++);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  reconnectNow() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  }

  /** Forget the current socket (the network went away, or it went silent) and retry. */
  drop() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    try {
      ws.close();
    } catch {
      /* already closing */
    }
    this.closed(1006);
  }

  /** Sends a message on the open socket; false when there is none. */
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  startHeartbeat(seconds) {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      // Silent for more than two beats and a half: the socket is dead even if not closed.
      if (Date.now() - this.lastHeard > seconds * 2500) {
        this.drop();
        return;
      }
      this.send({ type: "ping" });
    }, seconds * 1000);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}

/** A row's key on a screen: its kind and object (ticket 7 and complaint 7 are two rows). */
export function rowKey(row) {
  return `${row.kind ?? "ticket"}:${row.object_id}`;
}

/** Most urgent first: due ascending (no due last), then object id, then kind. */
export function byDue(a, b) {
  const da = a.due ? Date.parse(a.due) : Infinity;
  const db = b.due ? Date.parse(b.due) : Infinity;
  if (da !== db) return da < db ? -1 : 1;
  if (a.object_id !== b.object_id) return a.object_id - b.object_id;
  return rowKey(a) < rowKey(b) ? -1 : rowKey(a) > rowKey(b) ? 1 : 0;
}

/**
 * The rows on one screen, keyed by kind and object id (``rowKey``), each with the version it was shown at.
 * An event whose version is not newer than what this screen has seen is ignored, so a
 * duplicate or a late event changes nothing. ``belongs(row)`` says whether a row is on
 * this screen at all (status open, mine or my teams' unassigned, …).
 */
export class RowStore {
  constructor(belongs) {
    this.belongs = belongs;
    this.rows = new Map();
    this.seen = new Map();
    this.buffer = null;
  }

  /** Apply one queue.event; returns true when the screen changed. */
  apply(message) {
    if (this.buffer) {
      this.buffer.push(message);
      return false;
    }
    const row = message.object;
    if (!row || row.object_id == null) return false;
    const version = Number(message.version ?? row.version);
    const id = rowKey(row);
    if ((this.seen.get(id) ?? -1) >= version) return false;
    this.seen.set(id, version);
    const keep = message.event !== "closed" && this.belongs(row);
    if (keep) {
      this.rows.set(id, { ...row, version });
      return true;
    }
    return this.rows.delete(id);
  }

  /** Hold events while a resync is in flight; they are applied on top of the snapshot. */
  beginResync() {
    if (!this.buffer) this.buffer = [];
  }

  /** Replace the list with a fresh snapshot, then replay events that arrived meanwhile. */
  replace(rows) {
    const pending = this.buffer || [];
    this.buffer = null;
    const next = new Map();
    for (const row of rows) {
      const id = rowKey(row);
      const seen = this.seen.get(id) ?? -1;
      if (seen > row.version) {
        // An event newer than the snapshot was already applied: keep what it said.
        const current = this.rows.get(id);
        if (current) next.set(id, current);
        continue;
      }
      this.seen.set(id, row.version);
      if (this.belongs(row)) next.set(id, row);
    }
    this.rows = next;
    for (const message of pending) this.apply(message);
  }

  /** Rows added from a later page: never downgrade a row already known. */
  extend(rows) {
    for (const row of rows) {
      const id = rowKey(row);
      if ((this.seen.get(id) ?? -1) >= row.version) continue;
      this.seen.set(id, row.version);
      if (this.belongs(row)) this.rows.set(id, row);
    }
  }

  abortResync() {
    const pending = this.buffer || [];
    this.buffer = null;
    for (const message of pending) this.apply(message);
  }

  sorted(compare = byDue) {
    return [...this.rows.values()].sort(compare);
  }
}
