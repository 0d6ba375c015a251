// Shared live layer for every page: one Socket.IO connection, a clock corrected to the
// server's, countdowns, the wallet balance and the notifications badge in the nav.
// User text only ever goes into the page through textContent.
import { localizeMessage, localizeTimes, t } from "./i18n.js";

const body = document.body;
export const userId = body.dataset.userId ? Number(body.dataset.userId) : null;
export const username = body.dataset.username || null;

// -- money ------------------------------------------------------------------------------

export function formatBRL(cents) {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(cents));
  const whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  // A no-break space: "R$" never wraps apart from its number (the server's brl filter does the same).
  return `${sign}R$\u00a0${whole},${String(abs % 100).padStart(2, "0")}`;
}

export function centsToInput(cents) {
  return `${Math.floor(cents / 100)},${String(cents % 100).padStart(2, "0")}`;
}

// "1.234,56", "1234.56", "1234,5", "1234" -> cents; null when it is not an amount.
export function parseReais(text) {
  let cleaned = String(text || "").replace(/R\$|\s/g, "");
  if (cleaned.includes(",")) cleaned = cleaned.replace(/\./g, "").replace(",", ".");
  if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) return null;
  const [whole, frac = ""] = cleaned.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

// -- the server's clock ---------------------------------------------------------------------
// Every payload carries server_time. A message is always a little old when it arrives, so
// (server_time - local monotonic time) is a lower bound of the true offset: keeping the
// largest one seen gives the best estimate, never moves backwards, and ignores the user's
// wall clock entirely (performance.now() is monotonic), so countdowns neither drift nor jump.

let clockOffset = null;

export function syncClock(serverTime) {
  const t = Date.parse(serverTime || "");
  if (Number.isNaN(t)) return;
  const sample = t - performance.now();
  if (clockOffset === null || sample > clockOffset) clockOffset = sample;
}

export function serverNow() {
  return clockOffset === null ? Date.now() : clockOffset + performance.now();
}

syncClock(body.dataset.serverTime);
localizeTimes();

// -- countdowns -------------------------------------------------------------------------------

export function formatRemaining(ms) {
  if (ms <= 0) return t("ending");
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (d > 0) return `${d}d ${h}h ${pad(m)}m`;
  if (h > 0) return `${h}h ${pad(m)}m ${pad(sec)}s`;
  return `${m}m ${pad(sec)}s`;
}

export function tickCountdowns() {
  const now = serverNow();
  for (const el of document.querySelectorAll("[data-countdown]")) {
    const ends = Date.parse(el.dataset.endsAt || "");
    if (Number.isNaN(ends)) continue;
    const left = ends - now;
    el.textContent = formatRemaining(left);
    el.dataset.remaining = String(Math.max(0, Math.floor(left / 1000)));
    el.classList.toggle("soon", left > 0 && left < 5 * 60 * 1000);
    el.classList.toggle("over", left <= 0);
  }
}

tickCountdowns();
setInterval(tickCountdowns, 250);

// -- small DOM helpers ------------------------------------------------------------------------

export function show(el, visible = true) {
  if (el) el.classList.toggle("hidden", !visible);
}

export function setText(root, selector, text) {
  for (const el of root.querySelectorAll(selector)) el.textContent = text;
}

export function flashChange(el) {
  if (!el) return;
  el.classList.remove("changed");
  void el.offsetWidth; // restart the animation
  el.classList.add("changed");
}

// Toasts of one `group` (e.g. the outbids of one auction) are one toast showing the latest
// text and, when `counted`, how many arrived (an order's steps replace each other uncounted);
// at most MAX_TOASTS are on screen, the oldest goes first.
const MAX_TOASTS = 3;
const TOAST_MS = 6000;

export function toast(message, href, group = null, counted = true) {
  const box = document.querySelector("[data-toasts]");
  if (!box) return;
  let item = group ? [...box.children].find((el) => el.dataset.group === group) : null;
  if (!item) {
    item = document.createElement(href ? "a" : "div");
    item.className = "toast";
    if (href) item.href = href;
    if (group) item.dataset.group = group;
    item.dataset.count = "0";
    box.append(item);
  }
  if (href && item.href !== undefined) item.href = href;
  const count = counted ? Number(item.dataset.count) + 1 : 1;
  item.dataset.count = String(count);
  item.textContent = count > 1 ? `${message} (×${count})` : message;
  clearTimeout(Number(item.dataset.timer));
  item.dataset.timer = String(setTimeout(() => item.remove(), TOAST_MS));
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
}

// A newer state makes a group's toast wrong (an outbid toast while the page says you lead): it goes.
export function dismissToasts(group) {
  const box = document.querySelector("[data-toasts]");
  for (const item of box ? [...box.children] : []) {
    if (item.dataset.group === group) item.remove();
  }
}

// -- the connection ---------------------------------------------------------------------------

export const socket = window.io ? window.io({ transports: ["websocket", "polling"] }) : null;

const banner = document.querySelector("[data-connection-banner]");
let wasConnected = false;

if (socket) {
  socket.on("connect", () => {
    show(banner, false);
    wasConnected = true;
  });
  socket.on("disconnect", () => {
    if (wasConnected) show(banner, true);
  });
  socket.io.on("reconnect_attempt", () => {
    if (wasConnected) show(banner, true);
  });

  socket.on("wallet", (data) => {
    syncClock(data.server_time);
    for (const el of document.querySelectorAll("[data-wallet-available]")) {
      el.textContent = formatBRL(data.available);
      el.dataset.cents = String(data.available);
      el.classList.toggle("negative", data.available < 0);
      flashChange(el);
    }
    for (const el of document.querySelectorAll("[data-wallet-held]")) {
      el.textContent = formatBRL(data.held);
      el.dataset.cents = String(data.held);
      flashChange(el);
    }
  });

  // An order's notification (order_opened, order_shipped ...) follows its `order` event: its toast leads to the order.
  const orders = new Map();
  socket.on("order", (data) => orders.set(data.auction_id, data.order_id));

  socket.on("notification", (data) => {
    if (typeof data.unread === "number") setUnread(data.unread);
    const order = String(data.kind || "").startsWith("order_") ? orders.get(data.auction_id) : undefined;
    const href = order
      ? `/orders/${order}`
      : data.auction_id
        ? `/auctions/${data.auction_id}`
        : data.payment_id
          ? "/wallet/payments"
          : "/notifications";
    const group = !data.auction_id ? null : order ? `order:${data.auction_id}` : `${data.kind}:${data.auction_id}`;
    toast(localizeMessage(data.message), href, group, !order);
  });
}

export function setUnread(count) {
  for (const el of document.querySelectorAll("[data-unread-count]")) {
    el.textContent = String(count);
    show(el, count > 0);
    flashChange(el);
  }
}

// Run `fn` now if connected and again after every reconnect (re-join rooms, refresh state).
export function onConnected(fn) {
  if (!socket) return;
  socket.on("connect", fn);
  if (socket.connected) fn();
}

export function emitWithAck(event, payload, timeoutMs = 8000) {
  return new Promise((resolve) => {
    if (!socket || !socket.connected) {
      resolve({ ok: false, error: "offline", message: t("offline") });
      return;
    }
    socket.timeout(timeoutMs).emit(event, payload, (err, ack) => {
      if (err) resolve({ ok: false, error: "timeout", message: t("timeout") });
      else resolve(ack || { ok: false, error: "server_error", message: t("timeout") });
    });
  });
}
