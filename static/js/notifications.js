// The notifications page: new notifications appear at the top as they arrive.
import { localizeMessage, t } from "./i18n.js";
import { socket } from "./live.js";

const list = document.querySelector("[data-notification-list]");

function item(data) {
  const li = document.createElement("li");
  li.className = "notification unread";
  li.dataset.notificationId = String(data.id);
  li.dataset.kind = data.kind;
  const body = document.createElement("div");
  body.className = "n-body";
  const message = document.createElement("p");
  message.className = "n-message";
  const href = data.auction_id ? `/auctions/${data.auction_id}` : data.payment_id ? "/wallet/payments" : null;
  if (href) {
    const link = document.createElement("a");
    link.href = href;
    link.textContent = localizeMessage(data.message);
    message.append(link);
  } else {
    message.textContent = localizeMessage(data.message);
  }
  const when = document.createElement("p");
  when.className = "muted small";
  when.textContent = t("just_now");
  body.append(message, when);
  li.append(body);
  return li;
}

if (socket && list) {
  socket.on("notification", (data) => {
    list.prepend(item(data));
    list.classList.remove("hidden");
    document.querySelector("[data-no-notifications]")?.remove();
  });
}
