// The auction page: live price, leader, history, countdown, bidding, outbid and result.
import {
  centsToInput, emitWithAck, flashChange, formatBRL, onConnected, parseReais, setText, show, socket,
  syncClock, tickCountdowns, username,
} from "./live.js";

const root = document.querySelector("[data-auction]");
const auctionId = Number(root.dataset.auctionId);
const $ = (sel) => root.querySelector(sel);

const form = $("[data-bid-form]");
const amountInput = $("[data-bid-amount]");
const maxInput = $("[data-bid-max]");
const errorBox = $("[data-bid-error]");
const okBox = $("[data-bid-ok]");
const submit = $("[data-bid-submit]");
const outbidBanner = $("[data-outbid-banner]");
const extendedBanner = $("[data-extended-banner]");
const history = $("[data-bid-history]");
const watchForm = $("[data-watch-form]");

const state = {
  status: root.dataset.status,
  nextMin: Number(root.dataset.nextMin),
  leader: root.dataset.leader || null,
  endsAt: root.dataset.endsAt,
};

const ERRORS = {
  too_low: (ack) => `Your bid is too low: the minimum now is ${formatBRL(ack.next_min ?? state.nextMin)}.`,
  insufficient_funds: () => "You don't have enough available money in your wallet for this bid.",
  own_auction: () => "You cannot bid on your own auction.",
  auction_not_open: () => "This auction is not open for bids.",
  not_logged_in: () => "Log in to bid.",
  rate_limited: () => "You are bidding too fast; wait a moment and try again.",
  invalid: (ack) => `That bid is not valid: ${ack.message || "check the amount"}.`,
  wallet_in_debt: () => "Your wallet is in debt; add money before bidding.",
  not_found: () => "This auction no longer exists.",
  unavailable: () => "The service is briefly unavailable; please try again.",
};

// The same "25 Nov 2026, 14:30 UTC" the server writes (the `when` template filter).
function timeText(iso, seconds = false) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const options = { day: "2-digit", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC" };
  if (seconds) options.second = "2-digit";
  return `${d.toLocaleString("en-GB", options)} UTC`;
}

function setEndsAt(iso) {
  if (!iso) return;
  state.endsAt = iso;
  root.dataset.endsAt = iso;
  for (const el of root.querySelectorAll("[data-countdown]")) el.dataset.endsAt = iso;
  setText(root, '[data-field="ends-at-text"]', timeText(iso));
  tickCountdowns();
}

function setPrice(cents) {
  if (cents === null || cents === undefined) return;
  const el = $('[data-field="price"]');
  if (el.textContent !== formatBRL(cents)) {
    el.textContent = formatBRL(cents);
    flashChange(el);
  }
}

function setNextMin(cents) {
  if (cents === null || cents === undefined) return;
  state.nextMin = cents;
  setText(root, '[data-field="next-min"]', formatBRL(cents));
  // Keep the prefilled amount useful: raise it to the new minimum unless the user typed more.
  if (amountInput && document.activeElement !== amountInput) {
    const typed = parseReais(amountInput.value);
    if (typed === null || typed < cents) amountInput.value = centsToInput(cents);
  }
}

function setLeader(name) {
  state.leader = name || null;
  setText(root, '[data-field="leader"]', name || "—");
}

function setStatus(status) {
  state.status = status;
  root.dataset.status = status;
  const el = $('[data-field="status"]');
  el.textContent = status.charAt(0).toUpperCase() + status.slice(1);
  el.className = `status status-${status}`;
  show($("[data-time-box]"), status === "open");
  show(form, status === "open");
}

function historyRow(bid) {
  const tr = document.createElement("tr");
  const who = document.createElement("td");
  who.textContent = bid.bidder || "—";
  if (bid.is_proxy) {
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = "auto";
    who.append(" ", tag);
  }
  const amount = document.createElement("td");
  amount.textContent = formatBRL(bid.amount);
  const when = document.createElement("td");
  const time = document.createElement("time");
  time.dateTime = bid.created_at || "";
  time.textContent = bid.created_at ? timeText(bid.created_at, true) : "just now";
  when.append(time);
  tr.append(who, amount, when);
  return tr;
}

function renderHistory(bids) {
  history.replaceChildren(...bids.map(historyRow));
  show($("[data-no-bids]"), bids.length === 0);
}

function showResult({ winner, amount, reserveMet, bidCount }) {
  const box = $("[data-result]");
  const p = document.createElement("p");
  if (winner && winner === username) {
    p.className = "result-win";
    p.textContent = `You won this auction for ${formatBRL(amount)}.`;
  } else if (winner) {
    p.className = "result-text";
    p.append("Won by ");
    const strong = document.createElement("strong");
    strong.textContent = winner;
    p.append(strong, ` for ${formatBRL(amount)}.`);
  } else if (bidCount > 0 && !reserveMet) {
    p.className = "result-text";
    p.textContent = "Finished: the reserve price was not met, so there is no sale.";
  } else {
    p.className = "result-text";
    p.textContent = "Finished with no bids.";
  }
  box.replaceChildren(p);
  show(box, true);
  show(outbidBanner, false);
  show(extendedBanner, false);
  setStatus("finished");
  show($("[data-leader-line]"), false);
  show(watchForm, false);
  $('[data-field="price-label"]').textContent = winner ? "Final price" : bidCount > 0 ? "Highest bid" : "Starting price";
  if (amount) setPrice(amount);
}

function applyState(s) {
  syncClock(s.server_time);
  setStatus(s.status);
  setPrice(s.status === "finished" && s.final_price ? s.final_price : s.current_price ?? s.starting_price);
  setLeader(s.leader);
  setText(root, '[data-field="bid-count"]', String(s.bid_count));
  setNextMin(s.next_min);
  setEndsAt(s.ends_at);
  if (typeof s.watchers === "number") setText(root, '[data-field="watchers"]', String(s.watchers));
  if (Array.isArray(s.bids)) renderHistory(s.bids);
  if (typeof s.watching === "boolean") setWatching(s.watching);
  if (s.status === "finished") {
    showResult({ winner: s.winner, amount: s.final_price, reserveMet: s.reserve_met, bidCount: s.bid_count });
  }
  if (s.status === "open" && s.you_lead) show(outbidBanner, false);
}

async function join() {
  const ack = await emitWithAck("join_auction", { auction_id: auctionId });
  if (ack.ok) applyState(ack);
}

onConnected(join);

if (socket) {
  socket.on("new_bid", (d) => {
    if (d.auction_id !== auctionId) return;
    syncClock(d.server_time);
    const wasLeader = state.leader === username;
    setPrice(d.amount);
    setLeader(d.leader);
    setText(root, '[data-field="bid-count"]', String(d.bid_count));
    setNextMin(d.next_min);
    setEndsAt(d.ends_at);
    for (const bid of d.bids || []) history.prepend(historyRow(bid));
    show($("[data-no-bids]"), false);
    if (d.extended) {
      extendedBanner.textContent = `A late bid extended this auction: it now ends ${timeText(d.ends_at)}.`;
      show(extendedBanner, true);
    }
    if (username && d.leader === username) show(outbidBanner, false);
    else if (wasLeader) showOutbid(d.amount);
  });

  socket.on("outbid", (d) => {
    if (d.auction_id !== auctionId) return;
    showOutbid(d.amount);
  });

  socket.on("auction_finished", (d) => {
    if (d.auction_id !== auctionId) return;
    syncClock(d.server_time);
    const count = Number($('[data-field="bid-count"]').textContent) || 0;
    showResult({ winner: d.winner, amount: d.amount, reserveMet: d.reserve_met, bidCount: count });
  });

  socket.on("auction_cancelled", (d) => {
    if (d.auction_id !== auctionId) return;
    setStatus("cancelled");
    show(watchForm, false);
    const box = $("[data-result]");
    const p = document.createElement("p");
    p.className = "result-text";
    p.textContent = "This auction was cancelled.";
    box.replaceChildren(p);
    show(box, true);
  });

  socket.on("auction_opened", (d) => {
    if (d.auction_id === auctionId) join();
  });

  socket.on("watchers", (d) => {
    if (d.auction_id === auctionId) setText(root, '[data-field="watchers"]', String(d.count));
  });
}

function showOutbid(amount) {
  show(okBox, false);
  setText(root, "[data-outbid-text]", `The price is now ${formatBRL(amount)}. Bid again to take the lead.`);
  show(outbidBanner, true);
}

function showError(ack) {
  const make = ERRORS[ack.error];
  errorBox.replaceChildren(make ? make(ack) : ack.message || "Your bid was not accepted.");
  if (ack.error === "insufficient_funds" || ack.error === "wallet_in_debt") {
    const link = document.createElement("a");
    link.href = "/wallet";
    link.textContent = "Add money";
    errorBox.append(" ", link);
  }
  errorBox.dataset.code = ack.error || "";
  show(errorBox, true);
  show(okBox, false);
}

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(errorBox, false);
    show(okBox, false);
    const amount = parseReais(amountInput.value);
    const max = maxInput && maxInput.value.trim() ? parseReais(maxInput.value) : null;
    if (amount === null || (maxInput && maxInput.value.trim() && max === null)) {
      showError({ error: "invalid", message: "enter an amount like 150 or 150,00" });
      return;
    }
    const payload = { auction_id: auctionId, amount };
    if (max !== null) payload.max_amount = max;
    submit.disabled = true;
    const ack = await emitWithAck("bid", payload);
    submit.disabled = false;
    if (!ack.ok) {
      showError(ack);
      return;
    }
    syncClock(ack.server_time);
    setNextMin(ack.next_min);
    okBox.textContent = ack.leading
      ? `You are the highest bidder at ${formatBRL(ack.amount)}.`
      : `Your bid was placed, but another bidder's automatic maximum is higher. The price is now ${formatBRL(ack.amount)}.`;
    show(okBox, true);
    if (ack.leading) show(outbidBanner, false);
    if (maxInput) maxInput.value = "";
  });
}

function setWatching(watching) {
  if (!watchForm) return;
  watchForm.querySelector("[data-watch-value]").value = watching ? "0" : "1";
  watchForm.querySelector("[data-watch-button]").textContent = watching ? "Stop watching" : "Watch this auction";
}

if (watchForm) {
  watchForm.addEventListener("submit", async (event) => {
    if (!socket || !socket.connected) return; // the plain form post works without the socket
    event.preventDefault();
    const want = watchForm.querySelector("[data-watch-value]").value === "1";
    const ack = await emitWithAck(want ? "watch" : "unwatch", { auction_id: auctionId });
    if (ack.ok) setWatching(ack.watching);
  });
}
