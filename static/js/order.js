// The order page: when either side acts (address set, shipped, received, disputed, resolved), the server sends
// `order` to both; the page fetches itself again and swaps in the new content, without a reload. The page is cut
// into parts (`data-part`); a part in which the reader is filling in a form (a field has the focus or differs from
// what the server wrote) stays as it is, in place: moving it would take the focus, the caret and a click half
// made (press, then release) away from them, so the keys typed next would go nowhere. The other parts are swapped.
import { onConnected, socket } from "./live.js";

const page = () => document.querySelector("[data-order-page]");
const orderId = Number(document.querySelector("[data-order]")?.dataset.orderId);

function changed(field) {
  if (field.type === "hidden") return false;
  if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
  if (field.tagName === "SELECT") return [...field.options].some((option) => option.selected !== option.defaultSelected);
  return field.value !== field.defaultValue;
}

function beingFilled(part) {
  const focused = document.activeElement;
  if (focused && part.contains(focused) && focused.closest("form")) return true;
  return [...part.querySelectorAll("input, textarea, select")].some(changed);
}

// The fresh parts in their order, with the reader's part in place of its fresh one; a part being filled in that
// the fresh page no longer has stays after the part it followed (the server answers its form with a clear error).
function nextParts(current, fresh) {
  const mine = new Map(current.map((part) => [part.dataset.part, part]));
  const theirs = new Set(fresh.map((part) => part.dataset.part));
  const parts = fresh.map((part) => {
    const kept = mine.get(part.dataset.part);
    return kept && beingFilled(kept) ? kept : part;
  });
  let after = -1; // where the last part of the current page went
  for (const part of current) {
    const name = part.dataset.part;
    if (!theirs.has(name) && beingFilled(part)) parts.splice(after + 1, 0, part);
    const at = parts.findIndex((next) => next.dataset.part === name);
    if (at >= 0) after = at;
  }
  return parts;
}

// Put `parts` into `container` without ever detaching a node that stays (they keep their relative order).
function arrange(container, parts) {
  const staying = new Set(parts);
  for (const child of [...container.children]) if (!staying.has(child)) child.remove();
  let next = container.firstElementChild;
  for (const part of parts) {
    if (part === next) next = next.nextElementSibling;
    else container.insertBefore(document.adoptNode(part), next);
  }
}

async function refresh() {
  const answer = await fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (!answer.ok) return;
  const fresh = new DOMParser().parseFromString(await answer.text(), "text/html").querySelector("[data-order-page]");
  const current = page();
  if (!fresh || !current) return;
  arrange(current, nextParts([...current.children], [...fresh.children]));
}

if (orderId && socket) {
  socket.on("order", (payload) => {
    if (payload.order_id === orderId) refresh();
  });
  // A change made between this page's rendering and its socket's connection (or during a reconnect) sent its
  // `order` to nobody here: read the page again once connected (one small request per visit).
  onConnected(refresh);
}
