// The drivers' page: the truck's own data from /d/<token>/events (Server-Sent Events),
// shown in the page's language; a booked truck's driver may check in at the waiting area
// (POST /d/<token>/check-in). Nothing else is fetched.
(function () {
  "use strict";
  const body = document.body;
  const token = body.dataset.token;
  const words = JSON.parse(body.dataset.words);
  const $ = (id) => document.getElementById(id);
  for (const el of document.querySelectorAll("[data-w]")) el.textContent = words[el.dataset.w];
  $("offline").textContent = words.offline;
  $("late").textContent = words.late;

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, (_, k) => (values[k] == null ? "" : String(values[k])));
  }

  // The booked slot, as the server wrote it: ISO times in the gate's local time, shown as
  // written (never moved into the phone's zone), in the page's words
  function slotText(start, end) {
    const [y, m, d] = start.slice(0, 10).split("-").map(Number);
    const mon = (words.months || "").split(" ")[m - 1] || m;
    const date = fill(words.date, { y: y, m: m, d: d, mon: mon });
    const time = start.slice(11, 16) + (end ? "–" + end.slice(11, 16) : "");
    return fill(words.booked_slot, { date: date, time: time, zone: isoZone(start) });
  }

  // the zone of an ISO time written at the gate's offset, named as the server names the
  // gate's zone (lanes.values.zone_name: UTC+07:00, UTC-03:30, UTC), so that the slot, as
  // every other time the page tells, is not read in the phone's own zone
  function isoZone(iso) {
    const offset = /([+-])(\d\d):?(\d\d)$/.exec(iso);
    if (!offset || (offset[2] === "00" && offset[3] === "00")) return "UTC";
    return "UTC" + offset[1] + offset[2] + ":" + offset[3];
  }

  // when the truck reached the gate: an ISO time at the gate's offset, shown as written
  function reachedText(iso, state) {
    const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
    const mon = (words.months || "").split(" ")[m - 1] || m;
    const date = fill(words.date, { y: y, m: m, d: d, mon: mon });
    return fill(words.at_gate_since, { date: date, time: gateTime(iso.slice(11, 16), state) });
  }

  // a time of the gate (HH:MM, its local time) with its zone, as a phone in another zone
  // (a Chinese driver's, UTC+8, at Huu Nghi, UTC+7) must not read it as its own
  function gateTime(hhmm, state) {
    return state.zone ? fill(words.gate_time, { time: hhmm, zone: state.zone }) : hhmm;
  }

  // The phone's clock may be minutes off (set by hand, another zone's time typed in as
  // local): the server sends its own time after each change and with each keep-alive, and
  // the page reads "now" as the phone's clock moved by the difference last heard (none
  // heard yet, on the state just opened: nothing is said late until the server's time is).
  let skewMs = null;
  function heardServer(data) {
    const at = Date.parse(data && data.server_time);
    if (!Number.isNaN(at)) skewMs = at - Date.now();
    late();
  }
  function serverNow() {
    return skewMs === null ? NaN : Date.now() + skewMs;
  }

  let shown = null; // the data on the screen
  function show(state) {
    $("booked").hidden = state.status !== "booked";
    $("waiting").hidden = state.status !== "waiting";
    $("called").hidden = state.status !== "called" && state.status !== "recalled";
    $("lost").hidden = state.status !== "lost";
    $("at_gate").hidden = state.status !== "at_gate";
    // how a booking ended (the firm cancelled it, the gate used it, lost it or saw no truck)
    for (const ended of ["cancelled", "no_show", "lost_late", "used"]) {
      $(ended).hidden = state.status !== ended;
    }
    if (state.status === "at_gate") {
      // when it was (the page opened again the next day says so, not "you are there")
      $("at-gate-since").hidden = !state.reached_at;
      if (state.reached_at) $("at-gate-since").textContent = reachedText(state.reached_at, state);
    }
    if (state.status === "booked") {
      // no waiting area for the truck's direction at this gate: drive to the gate for the
      // slot, nothing to check in to (the check-in would be refused)
      const toGate = state.waiting_area === false;
      $("booked").querySelector("[data-w]").textContent = words[toGate ? "booked_gate" : "booked"];
      $("check-in").hidden = toGate;
      if (toGate) $("check-in-result").hidden = true;
      $("booked-slot").hidden = !state.slot_start;
      if (state.slot_start) $("booked-slot").textContent = slotText(state.slot_start, state.slot_end);
    }
    shown = state;
    if (state.status === "waiting") {
      $("position").textContent = state.position;
      $("expected").textContent = gateTime(state.expected_call, state);
      $("as-of").textContent = state.as_of ? fill(words.as_of, { time: state.as_of }) : "";
    } else if (state.status === "called" || state.status === "recalled") {
      $("go").textContent = words[state.status];
      // a recall is the last call: missing it loses the place (the driver is told so now)
      $("last-call").hidden = state.status !== "recalled";
      const lane = state.way === "lane";
      $("place-label").textContent = lane ? words.lane : words.slot;
      $("place").textContent = lane ? state.lane_id : state.carrier_slot;
      $("way").textContent = fill(lane ? words.way_lane : words.way_yard, {
        gate: state.gate, lane: state.lane_id, yard: state.yard, slot: state.carrier_slot,
      });
      $("by").textContent = gateTime(state.be_there_by, state);
    } else if (state.status === "lost") {
      // the missed deadline in the page's words; the policy's reason (English) otherwise
      $("reason").textContent = state.missed
        ? fill(words.missed, { by: gateTime(state.missed, state) }) : state.reason;
    }
    body.dataset.status = state.status;
    late();
  }

  // The estimate is made when the queue moves, and nothing may move for a while: past the
  // expected call's minute (by the server's clock, as last heard), the page says the call
  // is later than estimated rather than show a time gone by as if it were to come.
  // A call's deadline passes with no event too (the recall, or the lost place, comes with
  // the queue's next step): past it, by the server's clock, the page says the truck is late
  // and what follows, rather than show a time gone by as the one to be there by.
  function late() {
    const at = shown && shown.status === "waiting" ? Date.parse(shown.expected_at) : NaN;
    $("late").hidden = !(serverNow() >= at + 60000);
    const called = shown && (shown.status === "called" || shown.status === "recalled");
    const overdue = called && serverNow() >= Date.parse(shown.deadline);
    $("overdue").hidden = !overdue;
    if (overdue) $("overdue").textContent = words[shown.status === "recalled" ? "overdue_last" : "overdue"];
    body.dataset.overdue = overdue ? "yes" : "no";
  }

  $("check-in").addEventListener("click", async () => {
    const button = $("check-in");
    const result = $("check-in-result");
    button.disabled = true;
    try {
      const answer = await fetch("/d/" + encodeURIComponent(token) + "/check-in?lang="
        + encodeURIComponent(document.documentElement.lang), { method: "POST" });
      if (answer.ok) {
        const done = await answer.json().catch(() => ({}));
        result.textContent = done.recorded === false ? words.checked_in_already : words.checked_in;
      } else {
        const problem = await answer.json().catch(() => ({}));
        // `message`: the page's own words for a booking that ended; any other refusal (the
        // API's detail is English, a server error has none) says whom to ask, in the
        // page's words
        // (no space after a full-width colon: "签到未成功：请…")
        const gap = /[\u3000-\uffef]$/.test(words.check_in_failed) ? "" : " ";
        result.textContent = words.check_in_failed + gap + (problem.message || words.check_in_ask);
        button.disabled = false;
      }
    } catch (e) {
      result.textContent = words.offline;
      button.disabled = false;
    }
    result.hidden = false;
  });

  // The stream: the data at once, then each change, and an `alive` event every few seconds
  // with nothing new. A stream silent for three of those (a phone's connection dead without
  // a word: EventSource itself would wait for ever, the page showing old data as current)
  // says so and is opened again.
  const aliveMs = (Number(body.dataset.aliveS) || 5) * 1000;
  let source = null;
  let heard = Date.now();
  let watching = null;
  // The link no longer leads to a page (the visit pruned, the booking deleted): said in the
  // page's words, in place of the old data, and the stream is not opened again.
  function gone() {
    if (source) source.close();
    clearInterval(watching);
    for (const section of document.querySelectorAll("section")) section.hidden = true;
    $("offline").hidden = true;
    $("gone").hidden = false;
    body.dataset.status = "gone";
  }
  // A stream refused (EventSource closes itself on any answer but 200): a 404 is a page gone;
  // anything else (a server error, no answer) is tried again as a connection lost.
  async function refused() {
    try {
      const answer = await fetch("/d/" + encodeURIComponent(token) + "/state",
        { cache: "no-store" });
      if (answer.status === 404) gone();
    } catch (e) {
      // no answer: offline, reopened by the watch below
    }
  }
  function listen() {
    if (source) source.close();
    heard = Date.now();
    source = new EventSource("/d/" + encodeURIComponent(token) + "/events");
    source.addEventListener("state", (e) => {
      heard = Date.now();
      $("offline").hidden = true;
      show(JSON.parse(e.data));
    });
    source.addEventListener("alive", (e) => {
      heard = Date.now();
      $("offline").hidden = true;
      heardServer(JSON.parse(e.data || "{}"));
    });
    source.addEventListener("clock", (e) => heardServer(JSON.parse(e.data)));
    source.addEventListener("gone", gone);
    source.onerror = () => {
      if (body.dataset.status === "gone") return;
      $("offline").hidden = false;
      if (source.readyState === EventSource.CLOSED) refused();
    };
  }
  listen();
  watching = setInterval(() => {
    late();
    if (Date.now() - heard > 3 * aliveMs) {
      $("offline").hidden = false;
      listen();
    }
  }, Math.min(1000, aliveMs));
})();
