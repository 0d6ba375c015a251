// The page's language and time zone: words come translated from the server (the body's
// data-i18n, JSON: the CSP allows no inline script); times are shown in the browser's own zone.

const data = JSON.parse(document.body.dataset.i18n || "{}");
export const locale = data.locale || "pt-BR";
const words = data.t || {};
const statusWords = data.status || {};
// Templates with more fixed text first, so "{count} characters" never swallows a longer message.
const literal = (english) => english.replace(/\{\w+\}/g, "").length;
const messages = (data.messages || [])
  .sort(([a], [b]) => literal(b) - literal(a))
  .map(([english, translated]) => [pattern(english), translated]);

export const timeZone = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || data.timezone || "America/Sao_Paulo";
  } catch {
    return data.timezone || "America/Sao_Paulo";
  }
})();

// The server renders times in the zone it was last told (America/Sao_Paulo at first); tell it ours.
if (timeZone && !document.cookie.split("; ").includes(`tz=${timeZone}`)) {
  document.cookie = `tz=${timeZone}; path=/; max-age=31536000; samesite=lax`;
}

function fill(text, vars) {
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

export function t(key, vars = {}) {
  return fill(words[key] ?? key, vars);
}

export function paymentStatus(status) {
  return (data.payment_status || {})[status] || status;
}

export function withdrawalStatus(status) {
  return (data.withdrawal_status || {})[status] || status.replace("_", " ");
}

export function statusLabel(status) {
  return statusWords[status] || status.charAt(0).toUpperCase() + status.slice(1);
}

// "No bids" for none: pt_BR's plural rules (CLDR) would say "0 lance".
export function bidsText(count) {
  if (!count) return t("bids_none");
  return t(count === 1 ? "bids_one" : "bids_many", { count });
}

// "R$" held to its number by a no-break space, as the server writes amounts.
function glued(text) {
  return text.replace(/R\$ /g, "R$\u00a0");
}

function pattern(english) {
  const names = [];
  const source = english
    .split(/\{(\w+)\}/)
    .map((part, i) => {
      if (i % 2 === 1) {
        names.push(part);
        return "(.+?)";
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return { regex: new RegExp(`^${source}$`, "s"), names };
}

// A pseudonym ("Bidder 4821") in the page's language; a username stays as its owner wrote it.
export function localizeName(name) {
  return /^(Bidder|Seller) \d+$/.test(name || "") ? localizeMessage(name) : name;
}

// A service's English message (a live notification, an error ack) in the page's language.
export function localizeMessage(text) {
  const plain = String(text || "").replace(/^[a-z_]+: /, "");
  for (const [{ regex, names }, translated] of messages) {
    const match = regex.exec(plain);
    if (!match) continue;
    const vars = Object.fromEntries(names.map((name, i) => [name, match[i + 1]]));
    // {message} and {name} hold a message of their own (a notice with a sentence added, a pseudonym).
    for (const name of ["message", "action", "status", "field", "role", "other"]) {
      if (name in vars) vars[name] = localizeMessage(vars[name]);
    }
    if ("name" in vars) vars.name = localizeName(vars.name);
    if ("date" in vars) vars.date = formatDay(vars.date);
    return glued(fill(translated, vars));
  }
  return glued(plain);
}

// The server's pattern (auction/entrypoints/i18n.py `when`: "d MMM y, HH:mm"), built from the browser's own
// month names, so a page's times read one way whether the server or this script wrote them.
// A service message's day (dd/mm/yyyy) in the same pattern, without the time: "21 dez. 2026".
function formatDay(text) {
  const found = /^(\d\d)\/(\d\d)\/(\d{4})$/.exec(text);
  if (!found) return text;
  const day = new Date(Date.UTC(Number(found[3]), Number(found[2]) - 1, Number(found[1]), 12));
  const options = { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" };
  const part = Object.fromEntries(new Intl.DateTimeFormat(locale, options).formatToParts(day).map((p) => [p.type, p.value]));
  return `${part.day} ${part.month} ${part.year}`;
}

export function formatTime(iso, seconds = false) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const options = { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone };
  if (seconds) options.second = "2-digit";
  const part = Object.fromEntries(new Intl.DateTimeFormat(locale, options).formatToParts(d).map((p) => [p.type, p.value]));
  const clock = [part.hour, part.minute, part.second].filter(Boolean).join(":");
  return `${part.day} ${part.month} ${part.year}, ${clock}`;
}

export function localizeTimes(root = document) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const text = formatTime(el.dateTime, el.dataset.seconds === "true" || /:\d\d:\d\d/.test(el.textContent));
    if (text) el.textContent = text;
  }
}
