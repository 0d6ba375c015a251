// The pay page of one top-up: copy buttons, and "paid" as soon as the payment's webhook lands
// (the server's `payment` event for this payment; the `wallet` event updates the balance in the nav).
import { paymentStatus, t } from "./i18n.js";
import { formatBRL, show, socket } from "./live.js";

const page = document.querySelector("[data-pay-page]");
const paymentId = Number(page.dataset.paymentId);
const paid = page.querySelector("[data-pay-paid]");
const waiting = page.querySelector("[data-pay-waiting]");
const status = page.querySelector("[data-pay-status]");

for (const button of page.querySelectorAll("[data-copy-code]")) {
  button.addEventListener("click", async () => {
    const field = page.querySelector("[data-pix-code], [data-boleto-line]");
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = t("copied");
    } catch {
      field.select();
    }
  });
}

if (socket) {
  socket.on("payment", (data) => {
    if (data.payment_id !== paymentId) return;
    if (status) status.textContent = paymentStatus(data.status);
    if (!data.paid) return;
    paid.textContent = data.credited
      ? t("paid_credited", { amount: formatBRL(data.credited) })
      : t("paid_pending");
    page.dataset.paid = "true";
    show(paid, true);
    show(waiting, false);
  });
}
