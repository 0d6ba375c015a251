// The event page: every lot's price, end and the viewer's state, live over the event's one room
// (`join_event`, then `lot` messages; docs/socket-protocol.md). The lot closing next is highlighted.
import { formatBRL, onConnected, serverNow, socket, syncClock, emitWithAck } from "./live.js";
import { statusLabel } from "./i18n.js";

const root = document.querySelector("[data-event]");
const eventId = Number(root.dataset.eventId);
const rows = new Map([...root.querySelectorAll("[data-lot]")].map((row) => [Number(row.dataset.auctionId), row]));

function apply(d) {
  const row = rows.get(d.auction_id);
  if (!row || d.version <= Number(row.dataset.version)) return; // another lot's page, or older news
  row.dataset.version = String(d.version);
  syncClock(d.server_time);
  if (typeof d.amount === "number") row.querySelector('[data-field="price"]').textContent = formatBRL(d.amount);
  const countdown = row.querySelector("[data-countdown]");
  if (countdown && d.ends_at) countdown.dataset.endsAt = d.ends_at;
  if (d.status === "finished") {
    row.dataset.status = "finished";
    countdown?.replaceWith(Object.assign(document.createElement("span"), { textContent: statusLabel("finished") }));
  }
  const you = row.dataset.you;
  const leader = d.status === "finished" ? d.winner : d.leader;
  if (you && leader !== undefined) {
    const state = row.querySelector('[data-field="state"]');
    const bidOn = state.dataset.state === "leading" || state.dataset.state === "outbid";
    const now = leader === you ? "leading" : bidOn ? "outbid" : state.dataset.state;
    if (now) {
      state.dataset.state = now;
      const finished = d.status === "finished";
      state.textContent = statusLabel(finished && now === "leading" ? "won" : finished && now === "outbid" ? "lost" : now);
    }
  }
  highlight();
}

// The open lot with the earliest end (lot order on a tie) is the one closing now.
function highlight() {
  const now = serverNow();
  let next = null;
  for (const row of rows.values()) {
    const ends = Date.parse(row.querySelector("[data-countdown]")?.dataset.endsAt || "");
    if (row.dataset.status !== "open" || Number.isNaN(ends) || ends <= now - 1000) continue;
    if (!next || ends < next.ends) next = { row, ends };
  }
  for (const row of rows.values()) row.classList.toggle("closing-now", row === next?.row);
}

if (socket) {
  socket.on("lot", (d) => d.event_id === eventId && apply(d));
  onConnected(() => emitWithAck("join_event", { event_id: eventId }));
}
setInterval(highlight, 1000);
