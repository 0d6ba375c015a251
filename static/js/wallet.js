// The wallet page: "Add money" asks the server (socket add_money) to start the charge and goes to our
// own pay page (PIX QR code, boleto line or card link); the balances change live when a webhook arrives.
import { t } from "./i18n.js";
import { emitWithAck, flashChange, formatBRL, parseReais, show, socket } from "./live.js";

const form = document.querySelector("[data-topup-form]");
const input = form.querySelector("[data-topup-amount]");
const errorBox = form.querySelector("[data-topup-error]");
const okBox = form.querySelector("[data-topup-ok]");
const submit = form.querySelector("[data-topup-submit]");
const min = Number(form.dataset.min);
const max = Number(form.dataset.max);

function fail(message) {
  errorBox.textContent = message;
  show(errorBox, true);
  show(okBox, false);
}

form.addEventListener("submit", async (event) => {
  if (!socket || !socket.connected) return; // without the socket the form posts and redirects
  event.preventDefault();
  show(errorBox, false);
  const amount = parseReais(input.value);
  if (amount === null) return fail(t("topup_amount"));
  if (amount < min || amount > max) return fail(t("topup_range", { min: formatBRL(min), max: formatBRL(max) }));
  const choice = form.querySelector("[data-billing-type]:checked");
  submit.disabled = true;
  const ack = await emitWithAck("add_money", { amount, billing_type: choice ? choice.value : "PIX" }, 20000);
  submit.disabled = false;
  if (!ack.ok) {
    return fail(ack.message ? t("topup_failed_because", { message: ack.message }) : t("topup_failed"));
  }
  okBox.replaceChildren(`${t("topup_started", { amount: formatBRL(amount) })} `);
  const link = document.createElement("a");
  link.href = ack.pay_url;
  link.textContent = t("pay_it");
  link.dataset.paymentLink = "";
  okBox.append(link);
  show(okBox, true);
  input.value = "";
  window.location.assign(ack.pay_url);
});

const frozenCard = document.querySelector("[data-wallet-frozen-card]");
const frozen = document.querySelector("[data-wallet-frozen]");
if (socket && frozen) {
  socket.on("wallet", (data) => {
    if (typeof data.frozen !== "number") return;
    frozen.textContent = formatBRL(data.frozen);
    frozen.dataset.cents = String(data.frozen);
    show(frozenCard, data.frozen > 0);
    flashChange(frozen);
  });
}
