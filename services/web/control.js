// borderflow control room: vanilla JS, no build step. Every string from the server goes
// into the page through textContent (never innerHTML).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { me: null, snap: null, source: null, lastUpdate: null, retry: null, gate: null, patches: 0, openAlerts: new Set(), waitingTimer: null, waiting: null };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// a code of the server's in words: "not_cleared" is "not cleared", "lost_truck" "lost truck"
// (until 2026-12-06 a decision's outcome was shown as its code)
const words = (code) => String(code).replace(/_/g, " ");

// Camera images come from the page's own origin, data: and the origins the server allows
// (BORDERFLOW_CONTROL_IMAGE_SOURCES: the page's bf-image-sources meta and its CSP img-src).
// A plate read's image_ref is written by whoever produces plate reads: one elsewhere is
// shown as a link, never fetched by the page (it was, from any http(s) URL).
const IMAGE_SOURCES = (document.querySelector('meta[name="bf-image-sources"]')?.content || "")
  .split(/\s+/).filter(Boolean);

function imageAllowed(ref) {
  if (/^data:image\//.test(ref)) return true;
  if (!/^https?:\/\//i.test(ref)) return false;
  let origin;
  try { origin = new URL(ref).origin; } catch (_) { return false; }
  return origin === location.origin || IMAGE_SOURCES.includes(origin);
}

function cameraImage(ref, plate) {
  if (!ref) return "";
  if (imageAllowed(ref)) return el("img", { src: ref, alt: "plate " + plate });
  if (!/^https?:\/\//i.test(ref)) return ref;
  return el("a", { href: ref, class: "image-link", rel: "noopener noreferrer", target: "_blank",
    title: "not from an image source this control room allows: not loaded" }, ref);
}

function localTime(iso, withSeconds) {
  if (!iso || !state.snap) return "";
  const t = new Date(new Date(iso).getTime() + state.snap.utc_offset_min * 60000);
  const s = t.toISOString();
  return withSeconds ? s.slice(11, 19) : s.slice(11, 16);
}

// the gate's date of an instant (YYYY-MM-DD), as localTime its time
function localDate(iso) {
  if (!iso || !state.snap) return "";
  return new Date(new Date(iso).getTime() + state.snap.utc_offset_min * 60000).toISOString().slice(0, 10);
}

// a past moment on the gate's clock: its time, with its date when that is not the gate's
// day (yesterday's 09:45 listed after today's 00:10 is not taken for today's)
function pastTime(iso, withSeconds) {
  const t = localTime(iso, withSeconds), day = localDate(iso);
  return t && state.snap && day !== localDate(state.snap.as_of) ? day + " " + t : t;
}

// the gate's offset as the API's refusals spell it: "UTC+07:00", "UTC-03:30"
function utcOffset(minutes) {
  const m = Math.abs(minutes), pad = (n) => String(n).padStart(2, "0");
  return "UTC" + (minutes < 0 ? "-" : "+") + pad(Math.floor(m / 60)) + ":" + pad(m % 60);
}

// the gate time (HH:MM:SS, as in the header) of the last state received: not the browser's
// clock or locale, which may be another time zone and another format
function lastUpdateAt() {
  return state.snap && state.lastUpdate ? localTime(state.snap.as_of, true) + " gate time" : "never";
}

async function api(path, options) {
  const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
  if (opts.body && typeof opts.body !== "string") {
    opts.body = JSON.stringify(opts.body);
    opts.headers["Content-Type"] = "application/json";
  }
  if (state.me && opts.method && opts.method !== "GET") opts.headers["X-CSRF-Token"] = state.me.csrf_token;
  let res;
  try { res = await fetch(path, opts); } catch (_) {
    // the server could not be reached (stopped, restarting, the network down): nothing was
    // done, and the page says so (until 2026-12-05 Apply and Log in said nothing at all)
    return { ok: false, status: 0, body: { detail: UNREACHABLE } };
  }
  let body = null;
  try { body = await res.json(); } catch (_) { body = null; }
  // the server's clock, read from its Date header: the session's end is the server's time
  if (res.ok && (path === "/control/api/me" || path === "/control/api/login")) noteExpiry(res, body);
  // the session ended under the page (expired, logged out in another tab): back to the login
  if (res.status === 401 && state.me && path !== "/control/api/login") showLogin(SESSION_ENDED);
  if (res.status === 403 && state.me && body && String(body.detail).startsWith("X-CSRF-Token")) {
    body.detail = await sessionChanged();
  }
  return { ok: res.ok, status: res.status, body };
}

// The browser's cookie is another session than the page's: someone logged in in another tab
// (the same account, or another at a shared desk), and the page's CSRF token is the old
// session's. The page takes the browser's session and says so; the action is not done (until
// 2026-12-05 the page went on showing the first account, every action refused with
// "X-CSRF-Token: missing or wrong").
async function sessionChanged() {
  const was = state.me.username;
  const me = await api("/control/api/me");
  if (!me.ok) return (me.body && me.body.detail) || "not logged in";
  enter(me.body);
  const who = me.body.username === was ? "again as " + was : "as " + me.body.username + " (this page was " + was + "'s)";
  return "another tab of this browser logged in " + who + "; the page now shows that session. Nothing was done: look and try again";
}

const SESSION_ENDED = "Your session has ended (expired, or logged out in another tab). Log in again.";
const UNREACHABLE = "the server could not be reached (connection lost); nothing was done, try again when it is back";

// what the notice says of an action that was not done (`what`, in words: "Lane HN-E1 not
// opened"): the server's reason, or that it was never sent. It said "refused (409): ...",
// the HTTP status first, and no word of the action (until 2026-12-06)
function notDone(r, what) {
  const d = r.body && r.body.detail;
  const said = Array.isArray(d) ? d.map((e) => e && e.msg).filter(Boolean).join("; ") : d;
  const detail = typeof said === "string" && said ? said : "the server gave no reason";
  return what + ": " + (r.status ? detail : "not applied: " + detail);
}

// -- login --------------------------------------------------------------------------
async function start() {
  state.gate = new URLSearchParams(location.search).get("gate");
  const me = await api("/control/api/me").catch(() => null);
  if (me && me.ok) return enter(me.body);
  showLogin();
}

// `reason`: why a page that was logged in is shown the login (nothing on a first visit).
// Everything that polls or streams stops: it would only be refused (401) again and again.
function showLogin(reason) {
  clearTimeout(state.retry); clearTimeout(state.waitingTimer);
  if (state.source) state.source.close();
  // an action's dialog left open would stay above the login, its Apply refused (401); the
  // text typed in it is kept and the dialog comes back after the login (session.js below)
  if ($("confirm").open) { keepDraft(); $("confirm").close("cancel"); }
  if ($("relogin").open) $("relogin").close();
  state.me = null; state.source = null; state.expiresAt = null;
  showSessionEnd();
  $("login").hidden = false; $("room").hidden = true; $("who").hidden = true;
  $("login-error").textContent = reason || "";
  setConn("disconnected", "not logged in");
}

async function login(ev) {
  ev.preventDefault();
  $("login-error").textContent = "";
  const r = await api("/control/api/login", {
    method: "POST", body: { username: $("login-user").value, password: $("login-pass").value },
  });
  if (!r.ok) { $("login-error").textContent = (r.body && r.body.detail) || "login failed"; return; }
  $("login-pass").value = "";
  enter(r.body);
}

function enter(me) {
  state.me = me;
  $("login").hidden = true; $("room").hidden = false; $("who").hidden = false;
  $("who-name").textContent = me.username;
  $("who-role").textContent = "(" + me.role + ")";
  document.body.dataset.role = me.role;
  showSessionEnd();
  connect();
  pollWaiting();
}

async function logout() {
  await api("/control/api/logout", { method: "POST" });
  showLogin();
}

// -- live stream ----------------------------------------------------------------------
function setConn(kind, text) {
  const c = $("conn"); c.dataset.state = kind; c.textContent = text;
  document.body.classList.toggle("stale", kind === "disconnected" && state.snap !== null);
}

function connect() {
  clearTimeout(state.retry);
  if (state.source) state.source.close();
  const url = "/control/api/stream" + (state.gate ? "?gate=" + encodeURIComponent(state.gate) : "");
  const es = new EventSource(url);
  state.source = es;
  es.addEventListener("state", (ev) => {
    state.snap = JSON.parse(ev.data);
    state.lastUpdate = new Date();
    render();
    restoreDraft();  // a dialog the session's end took, with its text, once the room is drawn
    if (state.snap.live) setConn("live", "live");
    else setConn("connecting", "change feed down: refreshed every few s, last " + lastUpdateAt());
  });
  es.addEventListener("patch", (ev) => {
    const p = JSON.parse(ev.data);
    if (!state.snap || state.snap.seq !== p.base) { connect(); return; } // out of step: start over
    state.snap = applyPatch(state.snap, p.diff);
    state.patches += 1;
    state.lastUpdate = new Date();
    render();
    if (state.snap.live) setConn("live", "live");
  });
  es.addEventListener("bye", () => { es.close(); connect(); }); // planned: reconnect at once
  es.onerror = () => {
    setConn("disconnected", "disconnected – last update at " + lastUpdateAt());
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      state.retry = setTimeout(async () => {
        const me = await api("/control/api/me").catch(() => null);
        if (me && me.status === 401) return showLogin(SESSION_ENDED);
        connect();
      }, 1000);
    }
  };
}

// what changed since the last snapshot: the same procedure as services/control/patch.py
function applyPatch(old, p) {
  if (p === null || p === undefined) return old;
  if ("$v" in p) return p.$v;
  if ("$k" in p) {
    const ids = old.map((item) => item[p.$k]);
    const byId = new Map(ids.map((id, i) => [id, old[i]]));
    const out = [];
    for (const run of p.$ids) {
      for (const id of Array.isArray(run) ? ids.slice(run[0], run[1]) : [run]) {
        out.push(Object.prototype.hasOwnProperty.call(p.$d, id) ? applyPatch(byId.get(id), p.$d[id]) : byId.get(id));
      }
    }
    return out;
  }
  const result = Object.assign({}, old);
  for (const [key, part] of Object.entries(p.$d)) result[key] = applyPatch(result[key], part);
  for (const key of p.$del || []) delete result[key];
  return result;
}

function waitingMin(arrivedAt, asOf) {
  return Math.max(0, (Date.parse(asOf) - Date.parse(arrivedAt)) / 60000).toFixed(1);
}

// -- rendering -------------------------------------------------------------------------
// Each render draws the panels afresh, so the focused element goes with its old panel: it is
// named by its keyed ancestors (alert, lane, truck, review item, candidate) and its action,
// and the same element of the new panels takes the focus back (found by a stranger's try:
// the focus fell to the page on every update, and a keyboard user could press nothing).
const FOCUS_KEYS = ["data-alert", "data-lane", "data-visit", "data-review", "data-candidate"];

function focusedKey() {
  const e = document.activeElement;
  if (!e || !$("room").contains(e)) return null;
  const parts = [];
  for (let n = e.parentElement; n && n !== $("room"); n = n.parentElement) {
    const key = FOCUS_KEYS.find((k) => n.hasAttribute(k));
    if (key) parts.unshift("[" + key + '="' + CSS.escape(n.getAttribute(key)) + '"]');
  }
  const own = ["data-alert-action", "data-action"].find((k) => e.hasAttribute(k));
  parts.push(own ? "[" + own + '="' + CSS.escape(e.getAttribute(own)) + '"]' : e.tagName.toLowerCase());
  return parts.length > 1 ? parts : null;
}

// the focus back on the element `parts` names when it fell to the page; if that element is
// gone (the lane closed: its "Close lane" is now "Open lane"), on the first button of its
// keyed panel (until 2026-12-05 the focus fell to the page after every action's dialog,
// and a keyboard user started again from the top)
function refocus(parts) {
  const now = document.activeElement;  // the page, or left in the dialog just closed
  if (!parts || (now && now !== document.body && !now.closest("dialog:not([open])"))) return;
  // an element now disabled (the alert just acknowledged: its Acknowledge) takes no focus
  const found = document.querySelector(parts.join(" "));
  const exact = found && !found.disabled ? found : null;
  const panel = exact ? null : document.querySelector(parts.slice(0, -1).join(" "));
  const again = exact || (panel && panel.querySelector("button:not([disabled]), summary"));
  if (again) again.focus({ preventScroll: true });
}

function render() {
  const focused = focusedKey();
  drawRoom();
  refocus(focused);
}

function drawRoom() {
  const s = state.snap;
  $("gate-name").textContent = s.gate_name + " control room";
  // the gate's day, which its "today" is: a feed of another day shows another date
  $("clock-date").textContent = localDate(s.as_of);
  $("clock").textContent = "gate time " + localTime(s.as_of, true);
  // which zone: a browser elsewhere (or set to another zone) cannot tell it from the times
  $("clock-zone").textContent = utcOffset(s.utc_offset_min);
  renderAlerts(s.alerts || [], s.alert_counts);
  renderKpis(s.kpis, s.needs_review);
  renderHeld(s.held_events || []);
  renderLanes(s.lanes);
  renderReview(s.review, s.needs_review);
  renderCarriers(s.carriers);
  if (state.waiting) renderWaiting(state.waiting);  // its times need the gate's offset
  $("recent-items").replaceChildren(...s.recent.slice(0, 12).map((d) =>
    el("div", { class: "carrier", "data-recent": d.visit_id },
      el("span", {}, pastTime(d.decided_at, true) + " " + d.plate),
      el("span", {}, d.outcome === "assigned" ? d.place : words(d.outcome)))));
}

// lane events dated more than an hour ahead of the gate's reads: held until the reads
// reach them, so the lanes below are shown without them (until 2026-12-06 nothing said so)
const HELD_WORDS = {
  lane_closed: "closes", lane_opened: "opens", carrier_out: "out of service",
  carrier_back: "back in service", carrier_departed: "departs", carrier_arrived: "arrives",
  truck_entered: "enters", truck_left: "leaves",
};

function renderHeld(events) {
  const held = $("held-events");
  held.hidden = events.length === 0;
  held.replaceChildren(...(events.length ? [
    "Dated ahead of the gate's clock, applied when the gate's reads reach them: ",
    ...events.map((e, i) => el("span", { "data-held": e.event_id },
      (i ? " · " : "") + (e.lane_id || e.carrier_id || e.visit_id || "") + " "
      + (HELD_WORDS[e.kind] || e.kind) + " " + localDate(e.at) + " " + localTime(e.at))),
  ] : []));
}

// -- risk alerts (issue 22): first on the page; age in gate time; evidence on a click --
function ageText(seconds) {
  if (seconds < 60) return seconds + " s";
  if (seconds < 3600) return Math.floor(seconds / 60) + " min";
  return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
}

// what became of the truck an alert holds: released or turned away by a controller (by
// whom, at what gate time, why: until 2026-12-06 a released truck's alert still said
// "truck held", and a turned-away one's until 2026-12-06 late), held, or to be held when it
// is decided
function heldText(a) {
  if (a.released_by) {
    const how = a.released_as === "turned_away" ? "turned away" : "released";
    return " · truck " + how + " by " + a.released_by + " at " + pastTime(a.released_at)
      + " (" + a.release_reason + ")";
  }
  return a.held_visit_id ? " · truck held" : " · holds the truck";
}

// `counts`: how many there are, listed or not (the server lists the 50 most urgent: open
// first, most severe, newest); until 2026-12-05 the count was the list's, "50 open of 50"
// with 118 open
function renderAlerts(alerts, counts) {
  const open = counts ? counts.open : alerts.filter((a) => a.status === "open").length;
  const total = counts ? counts.total : alerts.length;
  $("alert-count").textContent = total ? "(" + open + " open of " + total
    + (total > alerts.length ? "; the " + alerts.length + " most urgent listed" : "") + ")" : "";
  if (!alerts.length) { $("alert-items").replaceChildren(el("div", { class: "why" }, "no alerts")); return; }
  $("alert-items").replaceChildren(...alerts.map((a) => {
    const box = el("details", {
      class: "alert sev-" + a.severity + " st-" + a.status, "data-alert": a.alert_id,
      "data-rule": a.rule, "data-status": a.status, open: state.openAlerts.has(a.alert_id),
    },
    el("summary", {},
      el("span", { class: "sev" }, a.severity), " ",
      el("b", {}, words(a.rule)), " · ", el("span", { class: "subject" }, a.subject),
      " · ", el("span", { class: "age", title: "raised " + pastTime(a.raised_at, true) + " gate time" }, ageText(a.age_s) + " ago"),
      a.hold ? el("span", { class: "held" }, heldText(a)) : null,
      a.status !== "open" ? el("span", { class: "status" }, " · " + a.status + (a.status_by ? " by " + a.status_by : "")) : null),
    el("div", { class: "why" }, a.explanation),
    el("div", { class: "evidence" }, "evidence: ", a.evidence.join(", ")),
    el("div", { class: "acts" }, ["acknowledge", "escalate", "dismiss"].map((action) =>
      el("button", { type: "button", "data-alert-action": action,
        disabled: !canAct() || (action === "acknowledge" && a.status !== "open") || (action === "escalate" && a.status === "escalated"),
        onclick: () => askAlert(a, action) }, action[0].toUpperCase() + action.slice(1)))));
    box.addEventListener("toggle", () => {
      if (box.open) state.openAlerts.add(a.alert_id); else state.openAlerts.delete(a.alert_id);
    });
    return box;
  }));
}

// the panel folded to its heading (its count still shows) or open; the list scrolls inside
// a bounded height either way, so the board stays on the screen (until 2026-12-05 thirty
// alerts pushed the lanes below a 1280x720 screen)
function toggleAlerts() {
  const items = $("alert-items"), button = $("alerts-toggle");
  items.hidden = !items.hidden;
  button.setAttribute("aria-expanded", String(!items.hidden));
  button.textContent = items.hidden ? "Show" : "Hide";
}

// what a notice says was done, in a controller's words: it said the action's code
// ("done: carrier_out", "done: acknowledge") until 2026-12-06
const ALERT_DONE = { acknowledge: "acknowledged", escalate: "escalated", dismiss: "dismissed" };
// each action as [what, done]: the notice says "<what> <done>", or "<what> not <done>"
// when refused
const ACTION_DONE = {
  pick_manifest: (b) => ["Manifest " + b.manifest_id, "picked"],
  confirm_plate: (b) => [b.plate ? "Plate " + b.plate : "Plate", "confirmed"],
  reassign: (b) => ["Truck", b.lane_id ? "moved to " + b.lane_id : "moved"],
  hold: () => ["Truck", "held"],
  release: () => ["Truck", "released"],
  turn_away: () => ["Truck", "turned away"],
  open_lane: (b) => ["Lane " + b.lane_id, "opened"],
  close_lane: (b) => ["Lane " + b.lane_id, "closed"],
  carrier_out: (b) => ["Carrier " + b.carrier_id, "taken out of service"],
  carrier_back: (b) => ["Carrier " + b.carrier_id, "back in service"],
};

function doneText(action, body, refused) {
  const said = ACTION_DONE[action];
  if (!said) return (refused ? "Not done: " : "Done: ") + words(action);
  const [what, done] = said(body);
  return what + (refused ? " not " : " ") + done;
}

function askAlert(a, action) {
  const dlg = $("confirm"), opener = focusedKey();
  state.dialog = { kind: "alert", action, alert_id: a.alert_id };
  $("confirm-title").textContent = action + " alert";
  const named = words(a.rule);  // as the panel names it, in the notice too
  $("confirm-text").textContent = named + " · " + a.subject;
  $("confirm-reason").value = "";
  $("confirm-reason-error").textContent = "";
  $("confirm-extra-label").hidden = true;
  $("confirm-ok").disabled = false;
  dlg.onclose = async () => {
    refocus(opener);  // the button that opened it may have been drawn again meanwhile
    if (dlg.returnValue !== "ok") return;
    const r = await api("/control/api/alerts/" + encodeURIComponent(a.alert_id) + "/" + action,
      { method: "POST", body: { reason: $("confirm-reason").value.trim() } });
    const n = $("notice");
    n.classList.toggle("bad", !r.ok);
    n.textContent = r.ok ? "Alert " + ALERT_DONE[action] + ": " + named + " (audit entry " + r.body.audit_seq + ")"
      : notDone(r, "Alert not " + ALERT_DONE[action] + ": " + named);
  };
  dlg.showModal();
}

function renderKpis(k, review) {
  const items = [
    ["trucks in today", k.trucks_in], ["trucks out", k.trucks_out],
    ["dwell median", k.dwell_median_min === null ? "–" : k.dwell_median_min + " min"],
    ["dwell p95", k.dwell_p95_min === null ? "–" : k.dwell_p95_min + " min"],
    ["waiting now", k.waiting_now], ["need review", review],
  ];
  $("kpis").replaceChildren(...items.map(([label, value]) =>
    el("div", { class: "kpi", "data-kpi": label }, el("b", {}, value), el("span", {}, label))));
}

const canAct = () => state.me && state.me.can_act;

function renderLanes(lanes) {
  // the trucks waiting longest (not yet in service) across the gate: highlighted
  const waiting = lanes.flatMap((l) => l.trucks.filter((t) => !t.in_service));
  waiting.sort((a, b) => Date.parse(a.arrived_at) - Date.parse(b.arrived_at));
  state.longest = new Set(waiting.slice(0, 3).map((t) => t.visit_id));
  const cols = lanes.map((lane) => {
    const queued = lane.trucks.filter((t) => !t.in_service).length + (lane.more || 0);
    const head = el("div", { class: "lane-head" },
      el("div", {}, el("span", { class: "id" }, lane.lane_id), " ",
        el("span", { class: "state" }, lane.is_open ? "open" : "closed")),
      el("div", { class: "meta" }, lane.direction + " · " + lane.kind + " · " + lane.service_min + " min"),
      el("div", { class: "hours", "data-in-hours": String(!lane.hours || lane.hours.in_hours) }, hoursText(lane.hours)),
      el("div", { class: "queue", "data-queue": queued }, "queue " + queued),
      el("button", {
        type: "button", "data-action": lane.is_open ? "close_lane" : "open_lane", disabled: !canAct(),
        onclick: () => ask(lane.is_open ? "close_lane" : "open_lane",
          (lane.is_open ? "Close " : "Open ") + "lane " + lane.lane_id, { lane_id: lane.lane_id }),
      }, lane.is_open ? "Close lane" : "Open lane"));
    const trucks = lane.trucks.map((t) => truckCard(t, lane));
    if (lane.more) trucks.push(el("div", { class: "why more" }, "+ " + lane.more + " more"));
    const offHours = lane.hours && !lane.hours.in_hours ? " off-hours" : "";
    return el("div", { class: "lane" + (lane.is_open ? "" : " closed") + offHours, "data-lane": lane.lane_id }, head, trucks);
  });
  const out = [];
  lanes.forEach((lane, i) => {
    if (i === 0 || lanes[i - 1].direction !== lane.direction) out.push(el("h2", { class: "dir" }, lane.direction));
    out.push(cols[i]);
  });
  $("lanes").replaceChildren(...out);
  // a row for each direction's lanes on a wide screen (the CSS falls back to 7.4rem columns)
  const perDirection = {};
  for (const lane of lanes) perDirection[lane.direction] = (perDirection[lane.direction] || 0) + 1;
  $("lanes").style.setProperty("--per-row", String(Math.max(1, ...Object.values(perDirection))));
}

// the lane's open hours from the gate file, in gate time: within them until when, or closed
// by its hours until when (its trucks wait for its hours: the policy plans them so)
function hoursText(h) {
  if (!h || !h.windows.length) return "hours 24 h";
  const windows = h.windows.join(", ");
  if (h.in_hours) return "hours " + windows + (h.changes_at ? " · until " + localTime(h.changes_at) : "");
  return "closed by hours (" + windows + ")" + (h.changes_at ? " · opens " + localTime(h.changes_at) : "");
}

function truckCard(t, lane) {
  const flags = [];
  if (t.perishable) flags.push(el("span", { title: "perishable" }, "perishable"));
  if (t.hazmat) flags.push(el("span", { title: "hazmat class" }, "hazmat " + t.hazmat));
  if (t.containers) flags.push(el("span", {}, t.containers + " ctr"));
  return el("div", {
    class: "truck ch-" + (t.channel || "none") + (t.in_service ? " serving" : "") + (state.longest && state.longest.has(t.visit_id) ? " longest" : ""),
    "data-visit": t.visit_id, "data-plate": t.plate, title: t.reason,
  },
  el("div", { class: "plate" }, t.plate),
  el("div", {}, (t.firm_id || "no firm") + (t.channel ? " · " + t.channel : "")),
  el("div", { class: "flags" }, flags),
  el("div", { class: "times" }, (t.in_service ? "in service" : "waits " + waitingMin(t.arrived_at, state.snap.as_of) + " min") +
    " · " + t.service_min + " min · " + localTime(t.expected_start_at) + "–" + localTime(t.expected_done_at)),
  canAct() && !t.in_service ? el("div", { class: "acts" },
    el("button", { type: "button", "data-action": "hold",
      onclick: () => ask("hold", "Hold " + t.plate + " (out of " + lane.lane_id + ")", { visit_id: t.visit_id }) }, "Hold"),
    el("button", { type: "button", "data-action": "reassign",
      onclick: () => ask("reassign", "Move " + t.plate + " from " + lane.lane_id, { visit_id: t.visit_id }, t) }, "Move…"),
  ) : null);
}

// a manifest whose customs clearance is pending cannot be placed (the domain refuses it,
// lanes/actions.py): Pick and Release are disabled with the reason, not offered to fail
function pendingWhy(status) {
  return status === "pending" ? "customs clearance pending: the gate cannot place this truck yet" : null;
}

// a truck a risk alert or a controller holds reads "held", with who held it and why: it
// read its match outcome ("matched"), as if nothing stopped it (until 2026-12-06; a
// controller's hold until 2026-12-06 late)
function outcomeText(it) {
  return (it.held_by || []).length || it.held_by_controller ? "held" : words(it.match_outcome);
}

function heldBy(it) {
  const lines = (it.held_by || []).map((h) => el("div", { class: "why held-by", "data-held-by": h.alert_id },
    "held by risk alert " + words(h.rule) + ": " + h.reason));
  const c = it.held_by_controller;
  if (c) lines.push(el("div", { class: "why held-by", "data-held-by": "controller" },
    "held by " + c.by + ": " + c.reason + " (audit entry " + c.audit_seq + ")"));
  return lines;
}

function renderReview(items, total) {
  $("review-count").textContent = total ? "(" + total + ")" : "";
  // the server lists the truck waiting longest first, and holds 50: say how many newer
  // arrivals are not listed (until 2026-12-05 it held the newest, and the longest waiting
  // were at the bottom or not there at all)
  const more = total > items.length ? el("p", { class: "why more", id: "review-more" },
    "The " + items.length + " waiting longest are listed; " + (total - items.length)
      + " newer visits in review are not (GET /v1/review pages through them all).") : null;
  $("review-items").replaceChildren(...items.map((it) => {
    const cands = it.candidates.length ? el("table", {},
      el("tr", {}, el("th", {}, "manifest"), el("th", {}, "plate"), el("th", {}, "score"), el("th", {}, "closest read"), el("th", {})),
      it.candidates.map((c) => el("tr", { "data-candidate": c.manifest_id },
        el("td", {}, c.manifest_id), el("td", {}, c.plate), el("td", {}, c.score.toFixed(2)),
        el("td", {}, c.closest_read),
        el("td", {}, el("button", { type: "button", "data-action": "pick_manifest",
          disabled: !canAct() || c.customs_status === "pending", title: pendingWhy(c.customs_status),
          onclick: () => ask("pick_manifest", "Visit " + it.plate + " is manifest " + c.manifest_id,
            { visit_id: it.visit_id, manifest_id: c.manifest_id }) }, "Pick"),
          c.customs_status === "pending" ? el("span", { class: "why pending" }, " customs pending") : null)))) : null;
    const reads = el("table", {},
      el("tr", {}, el("th", {}, "read"), el("th", {}, "camera"), el("th", {}, "conf."), el("th", {}, "runners-up"), el("th", {}, "image")),
      it.reads.map((r) => el("tr", {},
        el("td", {}, r.plate_text || "(unreadable)"), el("td", {}, r.camera_id),
        el("td", {}, Number(r.confidence).toFixed(2)),
        el("td", {}, (r.candidates || []).map((c) => (c.text || c.plate_text || "?") + " " + Number(c.confidence || 0).toFixed(2)).join(", ")),
        el("td", {}, cameraImage(r.image_ref, r.plate_text)))));
    return el("div", { class: "item", "data-review": it.visit_id, "data-plate": it.plate },
      el("div", {},
        el("div", {}, el("b", {}, it.plate || "(no plate)"), el("span", { class: "outcome" }, outcomeText(it)),
          " · ", el("span", { class: "waits", title: "arrived " + pastTime(it.arrived_at) + " gate time" },
            "waits " + waitingMin(it.arrived_at, state.snap.as_of) + " min"),
          " · score " + it.match_score.toFixed(2) + " · " + pastTime(it.decided_at)),
        el("div", { class: "why" }, it.reason), ...heldBy(it), cands, reads),
      el("div", { class: "acts" },
        el("button", { type: "button", "data-action": "confirm_plate", disabled: !canAct(),
          onclick: () => ask("confirm_plate", "Confirm or correct the plate of visit " + it.plate,
            { visit_id: it.visit_id }, null, it.plate) }, "Confirm plate…"),
        it.manifest_id ? el("button", { type: "button", "data-action": "release",
          disabled: !canAct() || it.customs_status === "pending", title: pendingWhy(it.customs_status),
          onclick: () => ask("release", "Release " + it.plate + " (manifest " + it.manifest_id + ") to the policy",
            { visit_id: it.visit_id }) }, "Release") : null,
        it.manifest_id && it.customs_status === "pending" ? el("span", { class: "why pending" }, "customs pending") : null,
        el("button", { type: "button", "data-action": "turn_away", disabled: !canAct(),
          title: "refuse entry: the visit leaves review with your reason",
          onclick: () => ask("turn_away", "Turn away " + (it.plate || "visit " + it.visit_id) + " (refuse entry)",
            { visit_id: it.visit_id }) }, "Turn away…")));
  }), ...(more ? [more] : []));
}

// out of service and back, as a lane is closed and opened (a lane event the orchestrator
// applies; until 2026-12-06 the room could not take a carrier out of service)
function carrierButton(k) {
  const action = k.out_of_service ? "carrier_back" : "carrier_out";
  const text = (k.out_of_service ? "Put carrier " + k.carrier_id + " back in service"
    : "Take carrier " + k.carrier_id + " out of service");
  return el("button", { type: "button", "data-action": action, disabled: !canAct(),
    onclick: () => ask(action, text, { carrier_id: k.carrier_id }) },
  k.out_of_service ? "Back in service" : "Out of service");
}

function renderCarriers(c) {
  const rows = c.carriers.map((k) => el("div", { class: "carrier" + (k.out_of_service ? " out" : ""), "data-carrier": k.carrier_id },
    el("span", {}, k.carrier_id), el("span", {}, k.out_of_service ? "out of service"
      : k.back_at ? "on trip, back " + localTime(k.back_at) + (k.load.length ? " (" + k.load.length + " ctr)" : "") : "at the yard"),
    carrierButton(k)));
  const deps = c.departures.slice(0, 8).map((d) => el("div", { class: "carrier" },
    el("span", {}, d.carrier_id || "?"), el("span", {}, "departs " + localTime(d.departs_at))));
  const trucks = c.trucks.map((t) => el("div", { class: "carrier", "data-visit": t.visit_id },
    el("span", {}, t.plate), el("span", {}, t.carrier_slot)));
  $("carrier-items").replaceChildren(...rows,
    el("h2", {}, "Next departures"), ...(deps.length ? deps : [el("div", { class: "why" }, "none planned")]),
    el("h2", {}, "Trucks on carrier slots"), ...(trucks.length ? trucks : [el("div", { class: "why" }, "none")]),
    el("div", { class: "why" }, c.yard_waiting + " containers waiting at the yard"));
}

// -- the waiting areas (issue 23): /v1/waiting-area, polled every 3 s while logged in ----
async function pollWaiting() {
  clearTimeout(state.waitingTimer);
  if (!state.me) return;
  const q = state.gate ? "?gate=" + encodeURIComponent(state.gate) : "";
  const r = await api("/v1/waiting-area" + q).catch(() => null);
  if (r && r.ok) { state.waiting = r.body; renderWaiting(r.body); }
  state.waitingTimer = setTimeout(pollWaiting, 3000);
}

function renderWaiting(area) {
  const called = area.trucks.filter((t) => t.call).length;
  $("waiting-count").textContent = area.trucks.length
    ? "(" + area.trucks.length + ", " + called + " called)" : "";
  const rows = area.trucks.map((t) => el("div", { class: "carrier", "data-waiting": t.visit_id },
    el("span", {}, (t.plate || "?") + " " + t.direction),
    el("span", { class: "code", title: "driver's page code: /d/c/" + t.short_code }, t.short_code),
    el("span", {}, t.call
      ? (t.call.kind === "recall" ? "recalled to " : "called to ")
        + (t.call.lane_id || "carrier slot " + t.call.carrier_slot)
        + ", due " + localTime(t.call.due_at)
      : "in line #" + t.position + " since " + pastTime(t.entered_at))));
  $("waiting-items").replaceChildren(
    ...(rows.length ? rows : [el("div", { class: "why" }, "nobody waiting")]));
}

// -- actions ---------------------------------------------------------------------------
function ask(action, text, fields, truck, plate) {
  const dlg = $("confirm"), opener = focusedKey();
  state.dialog = { kind: "action", action, fields };
  $("confirm-title").textContent = action.replace("_", " ");
  $("confirm-text").textContent = text;
  $("confirm-reason").value = "";
  $("confirm-reason-error").textContent = "";
  const extra = $("confirm-extra-label"), lane = $("confirm-lane"), plateIn = $("confirm-plate");
  extra.hidden = true; lane.hidden = true; plateIn.hidden = true;
  $("confirm-ok").disabled = false;
  if (action === "reassign") {
    extra.hidden = false; lane.hidden = false; $("confirm-extra-name").textContent = "to lane";
    // only the open lanes that take its cargo and customs channel (the server's moves_to)
    const to = state.snap.lanes.filter((l) => (truck.moves_to || []).includes(l.lane_id) && l.is_open);
    lane.replaceChildren(...to.map((l) => el("option", { value: l.lane_id }, l.lane_id + " (" + l.kind + ")")));
    // nowhere to go: nothing to apply (Apply sent no lane, and earned a 422)
    if (!to.length) { $("confirm-text").textContent = text + ": no other open lane takes it"; $("confirm-ok").disabled = true; }
  } else if (action === "confirm_plate") {
    extra.hidden = false; plateIn.hidden = false; $("confirm-extra-name").textContent = "plate";
    plateIn.value = plate || "";
  }
  dlg.onclose = async () => {
    refocus(opener);
    if (dlg.returnValue !== "ok") return;
    const body = Object.assign({ action, reason: $("confirm-reason").value.trim() }, fields);
    if (state.gate) body.gate_id = state.gate;
    if (action === "reassign") body.lane_id = lane.value;
    if (action === "confirm_plate") body.plate = plateIn.value;
    const r = await api("/control/api/actions", { method: "POST", body });
    const n = $("notice");
    n.classList.toggle("bad", !r.ok);
    n.textContent = r.ok ? doneText(action, body) + " (audit entry " + r.body.audit_seq + ")"
      + (r.body.decision ? " → " + r.body.decision.reason : "") : notDone(r, doneText(action, body, true));
  };
  dlg.showModal();
}

// what the server would refuse in a reason, in its words: it drops the blanks around it
// first (minlength counts them, so three spaces were sent and refused: until 2026-12-06)
function reasonRefusal(text) {
  const reason = text.trim();
  if (!reason) return "reason: must not be blank";
  return reason.length < 3 ? "reason: at least 3 characters, not counting the blanks around it" : "";
}

// Apply: a reason the server would refuse is not sent; why is said next to the field
function checkReason(ev) {
  const why = reasonRefusal($("confirm-reason").value);
  $("confirm-reason-error").textContent = why;
  if (why) { ev.preventDefault(); $("confirm-reason").focus(); }
}

setInterval(() => {
  if (state.snap && $("conn").dataset.state !== "live") document.body.classList.add("stale");
}, 1000);

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  // not a submit button: Enter in the reason field submits with the form's first submit
  // button, which was Cancel, and the action was dropped without a word
  $("confirm-cancel").addEventListener("click", () => $("confirm").close("cancel"));
  $("confirm-form").addEventListener("submit", checkReason);
  $("confirm-reason").addEventListener("input", () => { $("confirm-reason-error").textContent = ""; });
  for (const b of document.querySelectorAll("[data-relogin]")) b.addEventListener("click", openRelogin);
  $("relogin-form").addEventListener("submit", relogin);
  $("relogin-cancel").addEventListener("click", () => $("relogin").close());
  setInterval(showSessionEnd, 15000);
  $("alerts-toggle").addEventListener("click", toggleAlerts);
  start();
});

// -- the session's end (12 h after login by default) ---------------------------------------
// Shown in the header in the browser's own clock ("session until 14:05": operational time,
// not gate time), and from 15 minutes before, a notice that blocks nothing, with a button
// that logs in again in a small dialog without leaving the page: an action's dialog stays
// open, its text with it. The time left is reckoned from the server's clock (its `Date`
// header when `me` or the login answered, and `expires_at`), so a browser whose clock is
// off by hours still warns 15 minutes before; only the time since is the browser's.
const WARN_MS = 15 * 60000;

function noteExpiry(res, me) {
  const server = Date.parse(res.headers.get("Date") || "");
  // the Date header has whole seconds: the skew is known to a second, enough for minutes
  state.skew = Number.isNaN(server) ? 0 : server - Date.now();
  state.expiresAt = me && me.expires_at ? Date.parse(me.expires_at) : null;
  showSessionEnd();
}

function sessionLeftMs() {
  return state.expiresAt === null || state.expiresAt === undefined ? null
    : state.expiresAt - (Date.now() + (state.skew || 0));
}

function showSessionEnd() {
  const left = state.me ? sessionLeftMs() : null;
  const until = $("session-until"), warn = $("session-warning");
  if (left === null) { until.hidden = true; warn.hidden = true; $("confirm-session").hidden = true; return; }
  // the end in the browser's clock: the server's instant less the skew
  const end = new Date(state.expiresAt - (state.skew || 0));
  const pad = (n) => String(n).padStart(2, "0");
  until.hidden = false;
  until.textContent = "session until " + pad(end.getHours()) + ":" + pad(end.getMinutes());
  until.title = "your login ends then (this browser's clock); log in again before to keep working";
  const soon = left <= WARN_MS;
  const text = left > 0 ? "Your session ends in " + Math.max(1, Math.ceil(left / 60000)) + " min: log in again to continue"
    : "Your session has ended: log in again to continue";
  for (const [box, msg] of [[warn, $("session-warning-text")], [$("confirm-session"), $("confirm-session-text")]]) {
    box.hidden = !soon;
    msg.textContent = soon ? text : "";
  }
}

function openRelogin() {
  $("relogin-user").value = state.me ? state.me.username : "";
  $("relogin-pass").value = "";
  $("relogin-error").textContent = "";
  $("relogin").showModal();  // above an action's dialog, which stays open under it
  $("relogin-pass").focus();
}

async function relogin(ev) {
  ev.preventDefault();
  $("relogin-error").textContent = "";
  const was = state.me && state.me.username;
  const r = await api("/control/api/login", {
    method: "POST", body: { username: $("relogin-user").value, password: $("relogin-pass").value },
  });
  $("relogin-pass").value = "";
  if (!r.ok) { $("relogin-error").textContent = (r.body && r.body.detail) || "login failed"; return; }
  $("relogin").close();
  if (!state.me || r.body.username !== was) { enter(r.body); return; }  // another account: the room anew
  state.me = r.body;  // the new session's CSRF token; the stream goes on (the cookie is sent anew)
  connect();
  showSessionEnd();
}

// the dialog open when the session ended, and its text: kept for this tab only
// (sessionStorage, never the password), and opened again once this tab logs in again
const DRAFT = "borderflow.control.draft";

function keepDraft() {
  const d = state.dialog, reason = $("confirm-reason").value;
  if (!d || !reason.trim()) return;
  const draft = Object.assign({}, d, { reason, title: $("confirm-text").textContent });
  if (d.action === "confirm_plate") draft.plate = $("confirm-plate").value;
  if (d.action === "reassign") draft.lane = $("confirm-lane").value;
  try { sessionStorage.setItem(DRAFT, JSON.stringify(draft)); } catch (_) { state.draft = draft; }
  state.draft = draft;
}

function takeDraft() {
  let draft = state.draft || null;
  try { draft = JSON.parse(sessionStorage.getItem(DRAFT) || "null") || draft; } catch (_) { /* kept in memory */ }
  try { sessionStorage.removeItem(DRAFT); } catch (_) { /* none */ }
  state.draft = null;
  return draft;
}

// the same action on the same target, from the room as it is now; gone, the page says so
function restoreDraft() {
  if (!state.me || !state.snap || $("confirm").open) return;
  const d = takeDraft();
  if (!d) return;
  const s = state.snap, f = d.fields || {};
  const lane = f.lane_id && s.lanes.find((l) => l.lane_id === f.lane_id);
  const truck = f.visit_id && s.lanes.flatMap((l) => l.trucks.map((t) => [t, l])).find(([t]) => t.visit_id === f.visit_id);
  const item = f.visit_id && (s.review || []).find((it) => it.visit_id === f.visit_id);
  const alert = d.alert_id && (s.alerts || []).find((a) => a.alert_id === d.alert_id);
  const carrier = f.carrier_id && ((s.carriers || {}).carriers || []).find((k) => k.carrier_id === f.carrier_id);
  let opened = false;
  if (d.kind === "alert" && alert) { askAlert(alert, d.action); opened = true; }
  else if (d.kind === "action" && (d.action === "close_lane" || d.action === "open_lane") && lane
    && lane.is_open === (d.action === "close_lane")) { ask(d.action, d.title, f); opened = true; }
  else if (d.kind === "action" && (d.action === "carrier_out" || d.action === "carrier_back") && carrier
    && carrier.out_of_service === (d.action === "carrier_back")) { ask(d.action, d.title, f); opened = true; }
  else if (d.kind === "action" && (d.action === "hold" || d.action === "reassign") && truck && !truck[0].in_service) {
    ask(d.action, d.title, f, truck[0]); opened = true;
    if (d.action === "reassign" && d.lane) $("confirm-lane").value = d.lane;
  } else if (d.kind === "action" && ["confirm_plate", "release", "pick_manifest", "turn_away"].includes(d.action) && item) {
    ask(d.action, d.title, f, null, d.plate); opened = true;
  }
  const n = $("notice");
  if (opened) {
    $("confirm-reason").value = d.reason;
    n.classList.remove("bad");
    n.textContent = "your session had ended: the " + d.action.replace(/_/g, " ") + " dialog is back with what you typed";
  } else {
    n.classList.add("bad");
    n.textContent = "your session had ended while you wrote: " + d.title + " is gone or already done; what you typed: " + d.reason;
  }
}
