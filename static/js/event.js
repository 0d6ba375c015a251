// The event page: every lot's price, end and the viewer's state, live over the event's one room
// (`join_event`, then `lot` messages, each a lot's whole public state: auctions/public.py `lot_state`, and
// `lots_rescheduled`, the new ends of the lots a late bid pushed; docs/socket-protocol.md). Only the lots on this page are redrawn, but the page keeps every open lot's end
// (from the HTML, then from the room) so it always knows which lot of the whole event is closing now.
import { formatBRL, onConnected, serverNow, socket, syncClock, emitWithAck, tickCountdowns } from "./live.js";
import { statusLabel } from "./i18n.js";

const root = document.querySelector("[data-event]");
const eventId = Number(root.dataset.eventId);
const table = document.querySelector("[data-lots]");
const rows = new Map([...document.querySelectorAll("[data-lot]")].map((row) => [Number(row.dataset.auctionId), row]));
// auction id -> {number, ends (ms), open, version}: every lot of the event that is open, or that the room told of.
const lots = new Map(
  JSON.parse(table?.dataset.openLots || "[]").map(([id, number, ends]) => [
    id,
    { number, ends: Date.parse(ends), open: true, version: 0 },
  ]),
);
const note = document.querySelector("[data-closing-note]");

function remember(d) {
  const known = lots.get(d.auction_id);
  if (known && d.version <= known.version) return false; // older news
  lots.set(d.auction_id, {
    number: d.lot_number,
    ends: Date.parse(d.ends_at),
    open: d.status === "open",
    version: d.version,
  });
  return true;
}

function stateOf(row, d) {
  const you = row.dataset.you;
  const state = row.querySelector('[data-field="state"]');
  const before = state.dataset.state;
  if (!you) return before;
  const leader = d.status === "finished" ? d.winner : d.leader;
  if (leader === you) return "leading";
  return before === "leading" || before === "outbid" ? "outbid" : before;
}

function apply(d) {
  if (!remember(d)) return;
  const row = rows.get(d.auction_id);
  if (!row || d.version <= Number(row.dataset.version)) return; // not on this page, or older news
  row.dataset.version = String(d.version);
  row.dataset.status = d.status;
  row.querySelector('[data-field="price"]').textContent = formatBRL(d.price);
  const countdown = row.querySelector("[data-countdown]");
  if (d.status === "open" || d.status === "scheduled") {
    if (countdown) countdown.dataset.endsAt = d.ends_at;
  } else if (countdown) {
    const label = Object.assign(document.createElement("span"), { textContent: statusLabel(d.status) });
    label.dataset.field = "status";
    countdown.replaceWith(label);
  }
  const now = stateOf(row, d);
  if (now) {
    const state = row.querySelector('[data-field="state"]');
    const finished = d.status === "finished";
    state.dataset.state = now;
    state.textContent = statusLabel(finished && now === "leading" ? "won" : finished && now === "outbid" ? "lost" : now);
  }
}

// The open lot with the earliest end (lot order on a tie) is the one closing now, on this page or not.
function highlight() {
  const now = serverNow();
  let next = null;
  for (const [id, lot] of lots) {
    if (!lot.open || Number.isNaN(lot.ends) || lot.ends <= now - 1000) continue;
    if (!next || lot.ends < next.ends || (lot.ends === next.ends && lot.number < next.number)) next = { id, ...lot };
  }
  for (const [id, row] of rows) {
    const closing = id === next?.id;
    row.classList.toggle("closing-now", closing);
    if (closing) row.dataset.closingNow = "";
    else delete row.dataset.closingNow;
  }
  if (!note) return;
  note.hidden = !next;
  if (!next) return;
  const link = note.querySelector("[data-closing-link]");
  const href = link.getAttribute("href").replace(/\d+$/, String(next.id));
  if (link.getAttribute("href") !== href) {
    link.setAttribute("href", href);
    link.textContent = link.textContent.replace(/\d+/, String(next.number));
  }
  note.querySelector("[data-closing-countdown]").dataset.endsAt = new Date(next.ends).toISOString();
}

if (socket) {
  socket.on("lot", (d) => {
    if (d.event_id !== eventId) return;
    syncClock(d.server_time);
    apply(d);
    highlight();
    tickCountdowns();
  });
  // A late bid's cascade: one message for every lot it pushed, the k-th closing k intervals after the first.
  socket.on("lots_rescheduled", (d) => {
    if (d.event_id !== eventId) return;
    syncClock(d.server_time);
    const first = Date.parse(d.first_ends_at);
    d.lots.forEach(([id, number, version], k) => {
      const ends = first + k * d.interval_seconds * 1000;
      const known = lots.get(id);
      if (known && version <= known.version) return; // older news
      lots.set(id, { number, ends, open: known ? known.open : true, version });
      const row = rows.get(id);
      if (!row || version <= Number(row.dataset.version)) return;
      row.dataset.version = String(version);
      const countdown = row.querySelector("[data-countdown]");
      if (countdown) countdown.dataset.endsAt = new Date(ends).toISOString();
    });
    highlight();
    tickCountdowns();
  });
  let joinedBefore = false;
  onConnected(async () => {
    const ack = await emitWithAck("join_event", { event_id: eventId });
    root.dataset.joined = ack.ok ? "true" : "false"; // in the room: lot messages reach this page from now on
    // Back after a lost connection: what the room said meanwhile is gone, so read the page again, each page at
    // its own moment within 5 s (2,000 pages of one event do not all ask the restarted server at once).
    if (ack.ok && joinedBefore) setTimeout(() => location.reload(), Math.random() * 5000);
    joinedBefore ||= ack.ok;
  });
}
highlight();
setInterval(highlight, 1000);
