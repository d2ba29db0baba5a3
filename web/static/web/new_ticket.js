// The new-ticket screen (docs/ui.md, "New ticket"): find the caller as you type, or enter a
// new contact; open the ticket through POST /api/tickets/ with an Idempotency-Key, so a
// double click or a resend after a network failure opens one ticket.
import { $, cookie, el, fmt } from "./dom.js";

const config = JSON.parse(document.getElementById("kefu-config").textContent);
const T = JSON.parse(document.getElementById("intake-strings").textContent);
const SEARCH_DELAY_MS = 250;

function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // also on plain http
  return `intake-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** GET/POST as JSON with the session; resolves to {status, data}; rejects only on no answer. */
async function request(method, url, { body, headers = {}, signal } = {}) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    signal,
    headers: {
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json", "X-CSRFToken": cookie("csrftoken") }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { status: response.status, ok: response.ok, data };
}

const PHONE_LIKE = /^[\d\s()+.\-/]+$/;

// --- a combobox: type, see options, choose with the arrows and Enter or with the mouse ----------
class Combo {
  /**
   * @param {object} o
   * @param {HTMLInputElement} o.input  the text box (role=combobox)
   * @param {HTMLElement} o.list        the listbox
   * @param {HTMLElement} o.status      a polite live region: searching, how many, none
   * @param {(text: string, signal: AbortSignal) => Promise<object[]>} o.search
   *        options for the text: {label, detail?, value}
   * @param {(option: object) => void} o.choose
   * @param {(count: number, text: string) => string} o.describe  the status after a search
   * @param {(text: string) => object|null} [o.extra]  an option always offered last
   */
  constructor({ input, list, status, search, choose, describe, extra = () => null }) {
    Object.assign(this, { input, list, status, search, choose, describe, extra });
    this.options = [];
    this.active = -1;
    this.seq = 0;
    this.controller = null;
    this.timer = null;
    input.addEventListener("input", () => this.typed());
    input.addEventListener("keydown", (event) => this.key(event));
    input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    // mousedown, not click: the text box keeps the focus, and blur does not close first.
    list.addEventListener("mousedown", (event) => {
      const item = event.target.closest("[role=option]");
      if (!item) return;
      event.preventDefault();
      this.pick(Number(item.dataset.index));
    });
  }

  typed() {
    clearTimeout(this.timer);
    const text = this.input.value.trim();
    if (!text) {
      this.cancel();
      this.show([]);
      this.status.textContent = "";
      return;
    }
    this.timer = setTimeout(() => this.run(text), SEARCH_DELAY_MS);
  }

  cancel() {
    this.seq += 1; // an answer to an older text is dropped
    this.controller?.abort();
    this.controller = null;
  }

  async run(text) {
    this.cancel();
    const seq = this.seq;
    const controller = new AbortController();
    this.controller = controller;
    this.status.textContent = T.searching;
    this.input.setAttribute("aria-busy", "true");
    let options;
    try {
      options = await this.search(text, controller.signal);
    } catch (error) {
      if (seq !== this.seq) return;
      this.input.removeAttribute("aria-busy");
      this.status.textContent = fmt(T.search_failed, { detail: error.message || T.network_error });
      this.show(this.withExtra([], text));
      return;
    }
    if (seq !== this.seq) return;
    this.input.removeAttribute("aria-busy");
    this.status.textContent = this.describe(options.length, text);
    this.show(this.withExtra(options, text));
  }

  withExtra(options, text) {
    const extra = this.extra(text);
    return extra ? [...options, { ...extra, extra: true }] : options;
  }

  show(options) {
    this.options = options;
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    const prefix = this.list.id;
    this.list.replaceChildren(
      ...options.map((option, index) =>
        el(
          "li",
          {
            id: `${prefix}-${index}`,
            role: "option",
            "aria-selected": "false",
            class: option.extra ? "combo-option extra" : "combo-option",
            "data-index": String(index),
          },
          el("span", { class: "combo-label", text: option.label }),
          option.detail ? el("span", { class: "combo-detail", text: option.detail }) : null,
        ),
      ),
    );
    const open = options.length > 0;
    this.list.hidden = !open;
    this.input.setAttribute("aria-expanded", String(open));
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  }

  move(step) {
    if (!this.options.length) return;
    if (this.list.hidden) {
      this.list.hidden = false;
      this.input.setAttribute("aria-expanded", "true");
    }
    const count = this.options.length;
    this.active = this.active < 0 ? (step > 0 ? 0 : count - 1) : (this.active + step + count) % count;
    for (const item of this.list.children) {
      const on = Number(item.dataset.index) === this.active;
      item.setAttribute("aria-selected", String(on));
      item.classList.toggle("active", on);
      if (on) item.scrollIntoView({ block: "nearest" });
    }
    this.input.setAttribute("aria-activedescendant", `${this.list.id}-${this.active}`);
  }

  pick(index) {
    const option = this.options[index];
    if (!option) return;
    this.close();
    this.choose(option);
  }

  key(event) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      this.move(1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      this.move(-1);
    } else if (event.key === "Enter" && !(event.ctrlKey || event.metaKey)) {
      // Enter chooses; it never sends the form from a search box.
      event.preventDefault();
      if (this.list.hidden) return;
      if (this.active >= 0) {
        this.pick(this.active);
      } else {
        // One match found: Enter takes it without choosing it first.
        const found = this.options.filter((option) => !option.extra);
        if (found.length === 1) this.pick(this.options.indexOf(found[0]));
      }
    } else if (event.key === "Escape") {
      if (!this.list.hidden) {
        event.preventDefault();
        event.stopPropagation();
        this.close();
      }
    }
  }

  reset() {
    clearTimeout(this.timer);
    this.cancel();
    this.input.value = "";
    this.input.removeAttribute("aria-busy");
    this.status.textContent = "";
    this.show([]);
  }
}

async function searchContacts(text, signal) {
  const answer = await request("GET", `/api/contacts/?search=${encodeURIComponent(text)}`, { signal });
  if (!answer.ok) throw new Error(answer.data?.detail || fmt(T.error, { status: answer.status }));
  return answer.data.results;
}

// --- the form ------------------------------------------------------------------------------
const form = $("#new-ticket");
const submit = $("#open-ticket");
let contact = null; // the chosen contact (a search result), or null
let newContact = false; // entering a new contact instead
let customer = null; // the new contact's customer {id, name}, or null
let key = newIdempotencyKey(); // one per ticket this page means to open
let sending = false;

const contactCombo = new Combo({
  input: $("#contact-search"),
  list: $("#contact-results"),
  status: $("#contact-status"),
  async search(text, signal) {
    const rows = await searchContacts(text, signal);
    return rows.map((row) => ({
      label: row.name || row.email,
      detail: [row.name ? row.email : null, row.phone || null, row.customer?.name ?? T.no_customer]
        .filter(Boolean)
        .join(" · "),
      value: row,
    }));
  },
  describe(count) {
    if (count === 0) return T.none_found;
    if (count === 1) return T.found_one;
    if (count >= config.search_limit) return fmt(T.found_max, { count });
    return fmt(T.found, { count });
  },
  extra: (text) => ({ label: fmt(T.create_from, { text }), value: { create: text } }),
  choose(option) {
    if (option.value.create !== undefined) startNewContact(option.value.create);
    else chooseContact(option.value);
  },
});

const customerCombo = new Combo({
  input: $("#customer-search"),
  list: $("#customer-results"),
  status: $("#customer-status"),
  async search(text, signal) {
    // The customers of the contacts the search finds (a customer's name finds its contacts):
    // exactly the customers this agent may see (docs/ui.md).
    const seen = new Map();
    for (const row of await searchContacts(text, signal)) {
      if (row.customer && !seen.has(row.customer.id)) seen.set(row.customer.id, row.customer);
    }
    return [...seen.values()].map((c) => ({ label: c.name, value: c }));
  },
  describe: (count) => (count ? fmt(T.customers_found, { count }) : T.no_customer_found),
  choose(option) {
    chooseCustomer(option.value);
  },
});

function chooseContact(row) {
  contact = row;
  newContact = false;
  $("#chosen-name").textContent = row.name || "—";
  $("#chosen-email").textContent = row.email;
  $("#chosen-phone").textContent = row.phone || "—";
  $("#chosen-customer").textContent = row.customer?.name ?? T.no_customer;
  $("#contact-chosen").hidden = false;
  $("#contact-find").hidden = true;
  $("#new-contact").hidden = true;
  $("#new-contact-toggle").setAttribute("aria-expanded", "false");
  $(".new-contact-open").hidden = true;
  clearProblem("contact");
  $("#subject").focus();
}

function searchAgain() {
  contact = null;
  newContact = false;
  $("#contact-chosen").hidden = true;
  $("#new-contact").hidden = true;
  $("#new-contact-toggle").setAttribute("aria-expanded", "false");
  $(".new-contact-open").hidden = false;
  $("#contact-find").hidden = false;
  contactCombo.reset();
  $("#contact-search").focus();
}

/** The new-contact fields, pre-filled from what was typed in the search. */
function startNewContact(text = "") {
  contact = null;
  newContact = true;
  $("#contact-chosen").hidden = true;
  $("#contact-find").hidden = true;
  $(".new-contact-open").hidden = true;
  $("#new-contact").hidden = false;
  $("#new-contact-toggle").setAttribute("aria-expanded", "true");
  const typed = text.trim();
  let focus = "#new-contact-name";
  if (typed.includes("@")) {
    $("#new-contact-email").value = typed;
  } else if (typed && PHONE_LIKE.test(typed)) {
    $("#new-contact-phone").value = typed;
  } else if (typed) {
    $("#new-contact-name").value = typed;
    focus = "#new-contact-email";
  }
  clearProblem("contact");
  $(focus).focus();
}

function chooseCustomer(value) {
  customer = value;
  $("#customer-chosen-name").textContent = value.name;
  $("#customer-chosen").hidden = false;
  customerCombo.reset();
  $("#customer-search").hidden = true;
  clearProblem("new-contact-customer");
  $("#customer-clear").focus();
}

function clearCustomer() {
  customer = null;
  $("#customer-chosen").hidden = true;
  $("#customer-search").hidden = false;
  $("#customer-search").focus();
}

$("#contact-change").addEventListener("click", searchAgain);
$("#new-contact-toggle").addEventListener("click", () => startNewContact($("#contact-search").value));
$("#new-contact-cancel").addEventListener("click", searchAgain);
$("#customer-clear").addEventListener("click", clearCustomer);

// --- problems: each next to its field, in the reader's language ----------------------------
// The API's error keys (docs/api.md) and the field each belongs to.
const FIELD_OF = {
  subject: "subject",
  description: "description",
  category: "category",
  priority: "priority",
  channel: "channel",
  contact: "contact",
  contact_id: "contact",
  "contact.email": "new-contact-email",
  "contact.name": "new-contact-name",
  "contact.phone": "new-contact-phone",
};
const INPUT_OF = {
  contact: "#contact-search",
  "new-contact-customer": "#customer-search",
};

function inputOf(field) {
  return $(INPUT_OF[field] ?? `#${field}`);
}

function showProblem(field, message) {
  const box = $(`#${field}-problem`);
  box.textContent = message;
  box.hidden = false;
  inputOf(field)?.setAttribute("aria-invalid", "true");
}

function clearProblem(field) {
  const box = $(`#${field}-problem`);
  if (!box) return;
  box.textContent = "";
  box.hidden = true;
  inputOf(field)?.removeAttribute("aria-invalid");
}

function clearProblems() {
  for (const box of form.querySelectorAll(".field-problem")) {
    box.textContent = "";
    box.hidden = true;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  showSummary("");
}

function showSummary(message) {
  const box = $("#form-problem");
  box.textContent = message;
  box.hidden = !message;
}

/** The API's {"detail", "errors"} on the form: each message by its field, the rest on top. */
function showErrors(data) {
  const rest = [];
  let first = null;
  for (const [name, messages] of Object.entries(data?.errors ?? {})) {
    let field = FIELD_OF[name];
    if (name === "customer_id") field = newContact ? "new-contact-customer" : "contact";
    const text = messages.join(" ");
    if (field && $(`#${field}-problem`)) {
      showProblem(field, text);
      first ??= field;
    } else {
      rest.push(text);
    }
  }
  showSummary([T.fix_errors, data?.detail, ...rest].filter(Boolean).join(" "));
  const target = first ? inputOf(first) : null;
  if (target && !target.closest("[hidden]")) target.focus();
  else $("#form-problem").focus();
}

function body() {
  const payload = {
    subject: $("#subject").value.trim(),
    description: $("#description").value,
    priority: $("#priority").value,
    channel: $("#channel").value,
  };
  if ($("#category").value) payload.category = $("#category").value;
  if (contact) {
    payload.contact_id = contact.id;
  } else if (newContact) {
    payload.contact = {
      email: $("#new-contact-email").value.trim(),
      name: $("#new-contact-name").value.trim(),
      phone: $("#new-contact-phone").value.trim(),
    };
    if (customer) payload.customer_id = customer.id;
  }
  return payload;
}

/** What the page can tell before asking: the API checks everything again. */
function problemsHere(payload) {
  const problems = [];
  if (!payload.contact_id && !payload.contact) problems.push(["contact", T.contact_required]);
  if (payload.contact && !payload.contact.email) problems.push(["new-contact-email", T.email_required]);
  if (!payload.subject) problems.push(["subject", T.subject_required]);
  return problems;
}

function mayOpen(ticket) {
  return (
    config.supervisor || ticket.assignee === config.me || (ticket.team != null && config.teams.includes(ticket.team))
  );
}

function startOver(ticket) {
  form.reset();
  customer = null;
  $("#customer-chosen").hidden = true;
  $("#customer-search").hidden = false;
  searchAgain();
  const done = $("#intake-done");
  done.textContent = fmt(T.opened_elsewhere, { number: ticket.number });
  done.hidden = false;
  key = newIdempotencyKey();
}

async function send() {
  if (sending) return; // a second click while the first is on its way
  clearProblems();
  $("#intake-done").hidden = true;
  const payload = body();
  const problems = problemsHere(payload);
  if (problems.length) {
    for (const [field, message] of problems) showProblem(field, message);
    showSummary(T.fix_errors);
    const target = inputOf(problems[0][0]);
    if (target && !target.closest("[hidden]")) target.focus();
    return;
  }
  sending = true;
  submit.disabled = true;
  form.setAttribute("aria-busy", "true");
  showSummary("");
  let leaving = false;
  try {
    const answer = await request("POST", "/api/tickets/", {
      body: payload,
      headers: { "Idempotency-Key": key },
    });
    if (answer.ok) {
      // 201 opened, or 200: this key already opened it (a resend): the same ticket either way.
      if (mayOpen(answer.data)) {
        leaving = true;
        location.assign(`/tickets/${answer.data.id}/`);
      } else {
        startOver(answer.data);
      }
    } else if (answer.status === 409 && answer.data?.errors?.idempotency_key) {
      key = newIdempotencyKey();
      showSummary(T.key_reused);
      $("#form-problem").focus();
    } else if (answer.status === 400) {
      showErrors(answer.data); // a refused intake frees its key: the corrected form reuses it
    } else {
      showSummary(answer.data?.detail || fmt(T.error, { status: answer.status }));
      $("#form-problem").focus();
    }
  } catch {
    // No answer: the ticket may exist. The key is kept, so sending again cannot open two.
    showSummary(T.network_error);
    $("#form-problem").focus();
  } finally {
    if (!leaving) {
      sending = false;
      submit.disabled = false;
      form.removeAttribute("aria-busy");
    }
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
form.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    send();
  }
});
for (const field of ["subject", "description", "category", "priority", "channel", "new-contact-name", "new-contact-email", "new-contact-phone"]) {
  inputOf(field).addEventListener("input", () => clearProblem(field));
}
