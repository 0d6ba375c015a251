// The auctions list: join the rooms of the open auctions shown, so prices, bid counts,
// end times and results change live on the cards.
import { bidsText, statusLabel, t } from "./i18n.js";
import { emitWithAck, flashChange, formatBRL, onConnected, socket, syncClock, tickCountdowns } from "./live.js";

const MAX_ROOMS = 30;
const cards = new Map();
for (const card of document.querySelectorAll("[data-auction-card]")) {
  if (card.dataset.status === "open" && cards.size < MAX_ROOMS) cards.set(Number(card.dataset.auctionId), card);
}

function setField(card, field, text) {
  const el = card.querySelector(`[data-field="${field}"]`);
  if (el && el.textContent !== text) {
    el.textContent = text;
    flashChange(el);
  }
}

function update(card, { price, bidCount, endsAt }) {
  if (price !== null && price !== undefined) setField(card, "price", formatBRL(price));
  if (typeof bidCount === "number") setField(card, "bid-count", bidsText(bidCount));
  if (bidCount > 0) card.querySelector('[data-field="price-label"]').textContent = t("current_bid");
  const countdown = card.querySelector("[data-countdown]");
  if (countdown && endsAt) countdown.dataset.endsAt = endsAt;
}

function finish(card, amount) {
  card.dataset.status = "finished";
  const countdown = card.querySelector("[data-countdown]");
  if (countdown) {
    const status = document.createElement("span");
    status.className = "status status-finished";
    status.dataset.field = "status";
    status.textContent = statusLabel("finished");
    countdown.replaceWith(status);
  }
  if (amount) {
    setField(card, "price", formatBRL(amount));
    card.querySelector('[data-field="price-label"]').textContent = t("sold_for");
  }
}

onConnected(() => {
  for (const [auctionId, card] of cards) {
    emitWithAck("join_auction", { auction_id: auctionId }).then((s) => {
      if (!s.ok || (typeof s.version === "number" && s.version < (shown.get(auctionId) ?? -1))) return;
      if (typeof s.version === "number") shown.set(auctionId, s.version);
      syncClock(s.server_time);
      if (s.status === "finished") finish(card, s.final_price);
      else update(card, { price: s.current_price ?? s.starting_price, bidCount: s.bid_count, endsAt: s.ends_at });
      tickCountdowns();
    });
  }
});

// Each card shows the newest state: a room message older than the one shown is dropped (its `version`).
const shown = new Map();
function fresh(d) {
  if (typeof d.version !== "number") return true;
  if (d.version <= (shown.get(d.auction_id) ?? -1)) return false;
  shown.set(d.auction_id, d.version);
  return true;
}

if (socket) {
  socket.on("new_bid", (d) => {
    const card = cards.get(d.auction_id);
    if (!card || !fresh(d)) return;
    syncClock(d.server_time);
    update(card, { price: d.amount, bidCount: d.bid_count, endsAt: d.ends_at });
  });
  socket.on("auction_finished", (d) => {
    const card = cards.get(d.auction_id);
    if (card && fresh(d)) finish(card, d.amount);
  });
}
