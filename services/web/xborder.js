// borderflow control room: the other side of the gate (issue 21). Loaded after control.js,
// whose `state`, `api` and `el` it uses; every string goes in through textContent.
// Live: /v1/xborder/stream (Server-Sent Events), the crossings with both sides' facts and
// the cross-border alerts, each with its Acknowledge action (a controller, with a reason),
// the other side's messages refused here, and ours it refused.
"use strict";

const xb = { source: null, data: null, retry: null };

// a time on the gate's clock, with its date when that is not the gate's day (a truck of
// New Year's Eve is not taken for today's: until 2026-12-06 every time here was bare)
function xbTime(iso) {
  return iso ? pastTime(iso, false) || iso.slice(11, 16) : "–";
}

function xbSighting(s) {
  if (!s) return "–";
  return xbTime(s.at) + " " + s.tractor_plate + (s.trailer_plate ? " / " + s.trailer_plate : "")
    + (s.containers.length ? " [" + s.containers.join(", ") + "]" : "");
}

function xbRender() {
  const box = $("xborder");
  if (!box || !xb.data) return;
  box.hidden = false;
  const d = xb.data;
  $("xborder-link").textContent = "link " + d.link.side + " ↔ " + d.link.peer_gate_id
    + ": waiting " + d.link.waiting + ", unacknowledged " + d.link.unacked
    + ", last sent #" + d.link.last_sent + ", last received #" + d.link.last_received
    + ", refused " + d.link.refused + ", refused by the other side " + d.link.refused_by_peer;
  const canAct = state.me && state.me.role === "controller";
  $("xborder-alerts").replaceChildren(...d.alerts.map((a) => el("div",
    { class: "xb-alert", "data-alert": a.alert_id, "data-kind": a.kind },
    el("strong", {}, a.kind), " ", a.crossing_id, " – ", a.explanation,
    a.acknowledged
      ? el("span", { class: "xb-ack" }, " acknowledged by " + a.acknowledged.by + ": " + a.acknowledged.reason)
      : (canAct ? el("button", { type: "button", class: "xb-ack-button", onclick: () => xbAcknowledge(a) }, "Acknowledge") : null),
  )));
  // the other side's records refused here, newest first, as their dead letters say
  $("xborder-refused").replaceChildren(...d.refused.map((r) => el("tr",
    { "data-kind": r.kind, "data-record": r.record },
    el("td", {}, xbTime(r.at)), el("td", {}, r.kind),
    el("td", {}, r.message_id ? r.message_id + (r.sequence ? " #" + r.sequence : "") : "(unreadable)"),
    el("td", {}, r.reason), el("td", {}, r.acknowledged ? "acknowledged" : "not acknowledged"),
  )));
  // this side's messages the other side refused and said so (its refusal message)
  $("xborder-refused-by-peer").replaceChildren(...(d.refused_by_peer || []).map((r) => el("tr",
    { "data-kind": r.kind, "data-message": r.message_id },
    el("td", {}, xbTime(r.at)), el("td", {}, r.kind),
    el("td", {}, r.message_id + " #" + r.sequence),
    el("td", {}, r.text), el("td", {}, r.acknowledged ? "acknowledged" : "not acknowledged"),
  )));
  $("xborder-count").textContent = "(" + d.crossings.length + ")";
  $("xborder-crossings").replaceChildren(...d.crossings.map((c) => el("tr",
    { "data-crossing": c.crossing_id, "data-state": c.state },
    el("td", {}, c.crossing_id), el("td", {}, c.from_side), el("td", {}, c.state.replace("_", " ")),
    el("td", {}, xbSighting(c.notice)), el("td", {}, xbSighting(c.exit)), el("td", {}, xbSighting(c.entry)),
  )));
}

async function xbAcknowledge(alert) {
  const about = alert.crossing_id || "the two sides' clocks";  // clock_skew: of no crossing
  const reason = window.prompt("Acknowledge " + alert.kind + " of " + about + ": why (kept in the audit log)");
  if (!reason || !reason.trim()) return;
  const r = await api("/control/api/xborder/alerts/" + encodeURIComponent(alert.alert_id) + "/acknowledge",
    { method: "POST", body: { reason: reason.trim() } });
  if (!r.ok) $("notice").textContent = (r.body && r.body.detail) || ("acknowledge failed: " + r.status);
}

function xbConnect() {
  clearTimeout(xb.retry);
  if (xb.source) xb.source.close();
  const es = new EventSource("/v1/xborder/stream");
  xb.source = es;
  es.addEventListener("state", (ev) => { xb.data = JSON.parse(ev.data); xbRender(); });
  es.addEventListener("bye", () => { es.close(); xb.source = null; });
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) { es.close(); xb.source = null; }
  };
}

// follows control.js's login: connected while someone is logged in (404: no corridor here)
setInterval(() => {
  if (state.me && !xb.source) xbConnect();
  if (!state.me && xb.source) { xb.source.close(); xb.source = null; }
}, 1000);
