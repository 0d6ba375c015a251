// The order page: when either side acts (address set, shipped, received, disputed, resolved), the server sends
// `order` to both; the page fetches itself again and swaps in the new content, without a reload. A form the
// reader has started to fill in keeps what they typed: then only the parts without such a form are swapped.
import { onConnected, socket } from "./live.js";

const page = () => document.querySelector("[data-order-page]");
const orderId = Number(document.querySelector("[data-order]")?.dataset.orderId);

function typedIn(part) {
  return [...part.querySelectorAll("input, textarea, select")].some(
    (field) => field === document.activeElement || (field.type !== "hidden" && field.value !== field.defaultValue),
  );
}

async function refresh() {
  const answer = await fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (!answer.ok) return;
  const fresh = new DOMParser().parseFromString(await answer.text(), "text/html").querySelector("[data-order-page]");
  const current = page();
  if (!fresh || !current) return;
  if (!typedIn(current)) {
    current.replaceWith(document.adoptNode(fresh));
    return;
  }
  const kept = [...current.children];
  const next = [...fresh.children];
  current.replaceChildren(
    ...next.map((part, i) => (kept[i] && typedIn(kept[i]) && kept[i].tagName === part.tagName ? kept[i] : part)),
  );
}

if (orderId && socket) {
  socket.on("order", (payload) => {
    if (payload.order_id === orderId) refresh();
  });
  // A change made between this page's rendering and its socket's connection (or during a reconnect) sent its
  // `order` to nobody here: read the page again once connected (one small request per visit).
  onConnected(refresh);
}
