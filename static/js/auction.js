// The auction page: live price, leader, history, countdown, bidding (with a confirmation step),
// the leader's own state, Buy It Now, outbid and result.
import { bidsText, formatTime, localizeMessage, localizeName, statusLabel, t } from "./i18n.js";
import {
  centsToInput, dismissToasts, emitWithAck, flashChange, formatBRL, onConnected, parseReais, setText, show, socket,
  syncClock, tickCountdowns,
} from "./live.js";

const root = document.querySelector("[data-auction]");
const auctionId = Number(root.dataset.auctionId);
const alias = root.dataset.alias || null;
const premiumBps = Number(root.dataset.premiumBps || 0);
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
const leaderBox = $("[data-leader-box]");
const buyNowBox = $("[data-buy-now-box]");
const dialog = document.querySelector("[data-confirm]");
const SKIP_KEY = "leilao.confirmUpTo";

// What the page shows, filled by `apply` from the page's initial state (below) and kept by it.
const state = {
  // The auction's `version` this page shows: room messages carry theirs (docs/socket-protocol.md, "Order").
  version: -1,
  status: root.dataset.status,
  nextMin: 0,
  leader: null,
  endsAt: root.dataset.endsAt,
  yourMax: null,
  youLead: false,
  price: null,
  reserveMet: false,
  bidCount: 0,
  bids: [], // the history's rows, newest first
  buyNow: root.dataset.buyNowPrice ? Number(root.dataset.buyNowPrice) : null,
  outbidPrice: null, // the price the last outbid message named (its toast may still be on screen)
};

const capitalize = (text) => (text ? text.charAt(0).toUpperCase() + text.slice(1) : text);

const ERRORS = {
  too_low: (ack) => (ack.message ? `${capitalize(localizeMessage(ack.message))}.` : t("too_low", { amount: formatBRL(ack.next_min ?? state.nextMin) })),
  insufficient_funds: () => t("insufficient_funds"),
  own_auction: () => t("own_auction"),
  auction_not_open: () => t("auction_not_open"),
  not_logged_in: () => t("not_logged_in"),
  rate_limited: () => t("rate_limited"),
  invalid: (ack) =>
    ack.field === "max_amount"
      ? t("max_below_bid")
      : t("invalid", { message: ack.message ? localizeMessage(ack.message) : t("check_amount") }),
  wallet_in_debt: () => t("wallet_in_debt"),
  not_found: () => t("not_found"),
  unavailable: () => t("unavailable"),
  buy_now_unavailable: () => t("buy_now_unavailable"),
};

// Pseudonyms, except the viewer's own ("you") and, for admins and the seller after the sale, real names.
const realNames = JSON.parse(root.dataset.realNames || "{}");
function who(name) {
  if (name && name === alias) return t("you");
  if (!name) return "—";
  const shown = localizeName(name);
  return realNames[name] ? `${shown} (${realNames[name]})` : shown;
}

function setEndsAt(iso) {
  if (!iso) return;
  state.endsAt = iso;
  root.dataset.endsAt = iso;
  for (const el of root.querySelectorAll("[data-countdown]")) el.dataset.endsAt = iso;
  const text = $('[data-field="ends-at-text"]');
  if (text) {
    text.dateTime = iso;
    text.textContent = formatTime(iso);
  }
  tickCountdowns();
}

function setPrice(cents) {
  if (cents === null || cents === undefined) return;
  state.price = Math.max(state.price ?? 0, cents);
  const el = $('[data-field="price"]');
  if (el.textContent !== formatBRL(cents)) {
    el.textContent = formatBRL(cents);
    flashChange(el);
  }
  // An outbid banner always names the price now, not the one when it first appeared.
  if (!outbidBanner.classList.contains("hidden")) showOutbid(state.price);
}

function setReserve(met) {
  if (typeof met !== "boolean") return;
  state.reserveMet = met;
  setText(root, '[data-field="reserve"]', met ? t("reserve_met") : t("reserve_not_met"));
  updateBuyNow();
}

function updateBuyNow() {
  show(buyNowBox, state.buyNow !== null && state.status === "open" && !state.reserveMet);
}

// The least amount the form accepts: a challenger's next minimum, or a leader's new maximum.
function floor() {
  return state.youLead ? Math.max(state.nextMin, (state.yourMax ?? 0) + 1) : state.nextMin;
}

function setNextMin(cents) {
  if (cents === null || cents === undefined) return;
  state.nextMin = cents;
  setText(root, '[data-field="next-min"]', formatBRL(floor()));
  // Keep the prefilled amount useful (never for a leader: a raise holds more money, so they type it).
  if (amountInput && document.activeElement !== amountInput && !state.youLead) {
    const typed = parseReais(amountInput.value);
    if (typed === null || typed < cents) amountInput.value = centsToInput(cents);
  }
}

// The outbid notification's toast names the price when it came; the page shows the price now.
const outbidToasts = `outbid:${auctionId}`;

function setLeading(youLead, yourMax) {
  const was = state.youLead;
  state.youLead = Boolean(youLead);
  if (state.youLead) dismissToasts(outbidToasts);
  if (yourMax !== undefined) state.yourMax = yourMax;
  if (!leaderBox || !form) return;
  show(leaderBox, state.youLead && state.status === "open");
  setText(root, '[data-field="your-max"]', formatBRL(state.yourMax ?? 0));
  $('[data-field="amount-label"]').textContent = state.youLead ? t("new_max_label") : t("bid_label");
  submit.textContent = state.youLead ? t("raise_max") : t("place_bid");
  show($("[data-proxy]"), !state.youLead);
  if (state.youLead && !was) amountInput.value = "";
  if (!state.youLead && was) amountInput.value = centsToInput(state.nextMin);
  setText(root, '[data-field="next-min"]', formatBRL(floor()));
}

function setLeader(name) {
  state.leader = name || null;
  setText(root, '[data-field="leader"]', who(name));
}

function setStatus(status) {
  state.status = status;
  root.dataset.status = status;
  const el = $('[data-field="status"]');
  el.textContent = statusLabel(status);
  el.className = `status status-${status}`;
  show($("[data-time-box]"), status === "open");
  show(form, status === "open");
  if (status !== "open") show(leaderBox, false);
  updateBuyNow();
}

function setViewing(count) {
  setText(root, '[data-field="viewing"]', t("viewing", { count }));
}

function historyRow(bid) {
  const tr = document.createElement("tr");
  tr.dataset.bidder = bid.bidder || "";
  tr.dataset.amount = String(bid.amount);
  const cell = document.createElement("td");
  cell.textContent = who(bid.bidder);
  if (bid.is_proxy) {
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = t("auto");
    cell.append(" ", tag);
  }
  const amount = document.createElement("td");
  amount.textContent = formatBRL(bid.amount);
  const when = document.createElement("td");
  const time = document.createElement("time");
  time.dateTime = bid.created_at || "";
  time.textContent = bid.created_at ? formatTime(bid.created_at, true) : t("just_now");
  when.append(time);
  tr.append(cell, amount, when);
  return tr;
}

// A leader raising their own maximum does not move the price: such a row repeats the one below
// it (same bidder, same amount) and tells watchers nothing, so it is not shown.
function repeats(bid, below) {
  return below && below.bidder === bid.bidder && Number(below.amount) === Number(bid.amount);
}

// Rows from the initial state, a join answer or a room message, merged by bid id (newest first).
function mergeBids(bids) {
  const byId = new Map(state.bids.map((bid) => [bid.bid_id, bid]));
  for (const bid of bids) byId.set(bid.bid_id, bid);
  state.bids = [...byId.values()].sort((a, b) => b.bid_id - a.bid_id);
  const shown = state.bids.filter((bid, i) => !repeats(bid, state.bids[i + 1]));
  history.replaceChildren(...shown.map(historyRow));
  show($("[data-no-bids]"), shown.length === 0);
}

function showResult({ winner, amount, reserveMet, bidCount }) {
  const box = $("[data-result]");
  const p = document.createElement("p");
  if (winner && winner === alias) {
    p.className = "result-win";
    p.textContent = t("won", { amount: formatBRL(amount) });
  } else if (winner) {
    p.className = "result-text";
    p.textContent = t("won_by", { name: who(winner), amount: formatBRL(amount) });
  } else if (bidCount > 0 && !reserveMet) {
    p.className = "result-text";
    p.textContent = t("no_sale_reserve");
  } else {
    p.className = "result-text";
    p.textContent = t("no_bids");
  }
  box.replaceChildren(p);
  show(box, true);
  show(outbidBanner, false);
  dismissToasts(outbidToasts);
  show(extendedBanner, false);
  setStatus("finished");
  show($("[data-leader-line]"), false);
  show(watchForm, false);
  $('[data-field="price-label"]').textContent = winner ? t("final_price") : bidCount > 0 ? t("highest_bid") : t("starting_price");
  if (reserveMet) setReserve(true);
  if (amount) setPrice(amount);
}

// A room message newer than the page: true (and a missed one in between makes the page join again).
// An older or repeated one (another process's copy, a reconnect) is dropped, so the page never goes back.
function fresh(d) {
  if (typeof d.version !== "number") return true;
  if (d.version <= state.version) return false;
  const missed = state.version >= 0 && d.version > state.version + 1;
  state.version = d.version;
  if (missed) join();
  return true;
}

// The one way the page takes an auction's public state (auctions/public.py): the page's initial state, the
// join answer and every room message carry its fields under the same names, each only the ones it changes.
// A field this page does not know is ignored. The viewer's own fields (`you_lead`, `your_max`, `watching`)
// come with the initial state and the join answer; a room message knows the leader only by pseudonym.
function apply(s) {
  if (typeof s.version === "number") state.version = Math.max(state.version, s.version);
  syncClock(s.server_time);
  const wasLeader = state.youLead;
  if ("status" in s && s.status !== "finished") setStatus(s.status);
  if ("leader" in s) setLeader(s.leader);
  if ("bid_count" in s) {
    state.bidCount = s.bid_count;
    setText(root, '[data-field="bid-count"]', bidsText(s.bid_count));
  }
  if ("ends_at" in s) setEndsAt(s.ends_at);
  if (Array.isArray(s.bids)) mergeBids(s.bids);
  if (typeof s.you_lead === "boolean") setLeading(s.you_lead, s.your_max ?? null);
  else if (alias && "leader" in s && (s.leader === alias) !== wasLeader) {
    setLeading(s.leader === alias, s.leader === alias ? state.yourMax : null);
  }
  if ("next_min" in s) setNextMin(s.next_min);
  if ("reserve_met" in s) setReserve(s.reserve_met);
  if ("current_price" in s || "starting_price" in s) setPrice(s.current_price ?? s.starting_price);
  if (typeof s.watchers === "number") setViewing(s.watchers);
  if (typeof s.watching === "boolean") setWatching(s.watching);
  if (s.status === "finished") {
    showResult({ winner: s.winner, amount: s.final_price, reserveMet: s.reserve_met, bidCount: state.bidCount });
  } else if (state.status === "open" && state.youLead) show(outbidBanner, false);
  else if (!("you_lead" in s) && wasLeader && !state.youLead && state.status === "open") showOutbid(state.price);
}

async function join() {
  const ack = await emitWithAck("join_auction", { auction_id: auctionId });
  if (ack.ok && !(ack.version < state.version)) apply(ack);
}

apply(JSON.parse(document.querySelector("[data-auction-state]").textContent));
onConnected(join);

if (socket) {
  socket.on("new_bid", (d) => {
    if (d.auction_id !== auctionId || !fresh(d)) return;
    apply(d);
    if (d.extended) {
      extendedBanner.textContent = t("extended", { when: formatTime(d.ends_at) });
      show(extendedBanner, true);
    }
    // A price above the one the outbid toast named makes it stale: the banner (or leader box) says it right.
    if (alias && state.outbidPrice !== null && d.current_price > state.outbidPrice) dismissToasts(outbidToasts);
  });

  socket.on("outbid", (d) => {
    if (d.auction_id !== auctionId) return;
    state.outbidPrice = d.amount;
    if (state.youLead) setLeading(false, null);
    showOutbid(Math.max(state.price ?? 0, d.amount));
  });

  socket.on("auction_finished", (d) => {
    if (d.auction_id === auctionId && fresh(d)) apply(d);
  });

  // An outbid notification that arrives after this page already shows the viewer leading is old news.
  socket.on("notification", (d) => {
    if (d.kind === "outbid" && d.auction_id === auctionId && state.youLead) dismissToasts(outbidToasts);
  });

  // The sale opened an order (only its buyer and seller hear it): the page offers it at once, no reload.
  socket.on("order", (d) => {
    if (d.auction_id !== auctionId) return;
    $("[data-order-link]").href = `/orders/${d.order_id}`;
    show($("[data-order-box]"), true);
  });

  socket.on("auction_cancelled", (d) => {
    if (d.auction_id !== auctionId || !fresh(d)) return;
    apply(d);
    show(watchForm, false);
    const box = $("[data-result]");
    const p = document.createElement("p");
    p.className = "result-text";
    p.textContent = t("cancelled");
    box.replaceChildren(p);
    show(box, true);
  });

  // Opening changes more than its message says (the minimum, who may bid): the page joins again.
  socket.on("auction_opened", (d) => {
    if (d.auction_id !== auctionId || !fresh(d)) return;
    apply(d);
    join();
  });

  // A lot of a sale event pushed later by a late bid on a lot before it (docs/events.md).
  socket.on("auction_rescheduled", (d) => {
    if (d.auction_id === auctionId && fresh(d)) apply(d);
  });

  socket.on("watchers", (d) => {
    if (d.auction_id === auctionId) setViewing(d.count);
  });
}

function showOutbid(amount) {
  show(okBox, false);
  setText(root, "[data-outbid-text]", t("outbid", { amount: formatBRL(amount) }));
  show(outbidBanner, true);
}

function showError(ack) {
  const make = ERRORS[ack.error];
  errorBox.replaceChildren(make ? make(ack) : ack.message ? localizeMessage(ack.message) : t("not_accepted"));
  if (ack.error === "insufficient_funds" || ack.error === "wallet_in_debt") {
    const link = document.createElement("a");
    link.href = "/wallet";
    link.textContent = t("add_money");
    errorBox.append(" ", link);
  }
  errorBox.dataset.code = ack.error || "";
  show(errorBox, true);
  show(okBox, false);
}

function showOk(text, good) {
  okBox.textContent = text;
  okBox.classList.toggle("ok", good);
  okBox.classList.toggle("warn", !good);
  show(okBox, true);
}

// -- confirm before money moves ------------------------------------------------------------------

function skipUpTo() {
  const raw = Number(localStorage.getItem(SKIP_KEY));
  return Number.isFinite(raw) && raw > 0 ? raw : 0;
}

// Resolves true when the user confirms (or the amount is under their own "skip" threshold).
function confirmMoney({ title, amount, holdText }) {
  if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(true);
  if (skipUpTo() > 0 && amount <= skipUpTo()) return Promise.resolve(true);
  dialog.querySelector("[data-confirm-title]").textContent = title;
  dialog.querySelector("[data-confirm-amount]").textContent = formatBRL(amount);
  dialog.querySelector("[data-confirm-hold]").textContent = holdText;
  const skip = dialog.querySelector("[data-confirm-skip]");
  skip.value = skipUpTo() ? centsToInput(skipUpTo()) : "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        const ok = dialog.returnValue === "ok";
        if (ok) {
          const limit = skip.value.trim() ? parseReais(skip.value) : 0;
          if (limit !== null) localStorage.setItem(SKIP_KEY, String(limit));
        }
        resolve(ok);
      },
      { once: true },
    );
    dialog.returnValue = "";
    dialog.showModal();
    dialog.querySelector("[data-confirm-ok]").focus();
  });
}

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(errorBox, false);
    show(okBox, false);
    const amount = parseReais(amountInput.value);
    const max = !state.youLead && maxInput && maxInput.value.trim() ? parseReais(maxInput.value) : null;
    if (!amount || (!state.youLead && maxInput && maxInput.value.trim() && !max)) {
      showError({ error: "invalid", message: t("check_amount") });
      return;
    }
    const raising = state.youLead;
    const payload = { auction_id: auctionId, amount };
    if (raising) payload.max_amount = amount;
    else if (max !== null) payload.max_amount = max;
    const top = payload.max_amount ?? amount;
    // A lot with a buyer's premium holds it too (money.with_premium: half a centavo rounds up).
    const gross = (cents) => cents + Math.floor((cents * premiumBps + 5000) / 10000);
    const held = raising ? Math.max(0, gross(top) - gross(state.yourMax ?? 0)) : gross(top);
    const confirmed = await confirmMoney({
      title: raising ? t("confirm_raise_title") : t("confirm_bid_title"),
      amount: top,
      holdText: (raising
        ? t("confirm_hold_raise", { amount: formatBRL(held), max: formatBRL(top) })
        : t("confirm_hold", { amount: formatBRL(held) })) + (premiumBps ? " " + t("confirm_premium") : ""),
    });
    if (!confirmed) return;
    submit.disabled = true;
    const ack = await emitWithAck("bid", payload);
    submit.disabled = false;
    if (!ack.ok) {
      showError(ack);
      return;
    }
    syncClock(ack.server_time);
    if (ack.leading) {
      setLeading(true, ack.max_amount);
      showOk(raising ? t("max_raised", { amount: formatBRL(ack.max_amount), price: formatBRL(ack.amount) }) : t("leading", { amount: formatBRL(ack.amount) }), true);
      show(outbidBanner, false);
    } else {
      showOk(t("proxy_beat", { amount: formatBRL(ack.amount) }), false);
    }
    setNextMin(ack.next_min);
    setPrice(ack.amount);
    if (maxInput) maxInput.value = "";
  });
}

const buyButton = $("[data-buy-now]");
if (buyButton) {
  buyButton.addEventListener("click", async () => {
    show(errorBox, false);
    const confirmed = await confirmMoney({
      title: t("confirm_buy_title"),
      amount: state.buyNow,
      holdText: t("confirm_buy", { amount: formatBRL(state.buyNow) }),
    });
    if (!confirmed) return;
    buyButton.disabled = true;
    const ack = await emitWithAck("buy_now", { auction_id: auctionId });
    buyButton.disabled = false;
    if (!ack.ok) {
      showError(ack);
      if (ack.error === "buy_now_unavailable") show(buyNowBox, false);
      return;
    }
    showOk(t("bought", { amount: formatBRL(ack.amount) }), true);
  });
}

function setWatching(watching) {
  if (!watchForm) return;
  watchForm.querySelector("[data-watch-value]").value = watching ? "0" : "1";
  watchForm.querySelector("[data-watch-button]").textContent = watching ? t("unwatch") : t("watch");
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
