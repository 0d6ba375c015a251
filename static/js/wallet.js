// The wallet page: "Add money" asks the server (socket add_money) for a checkout URL and opens
// it in a new tab; the balance above changes live when the payment's webhook arrives.
import { emitWithAck, formatBRL, parseReais, show, socket } from "./live.js";

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
  if (amount === null) return fail("Enter an amount like 100 or 100,00.");
  if (amount < min || amount > max) return fail(`Enter an amount between ${formatBRL(min)} and ${formatBRL(max)}.`);
  // Open the tab now, while the click still counts as the user's: a tab opened after the
  // server answers would be blocked as a pop-up.
  const tab = window.open("", "_blank");
  submit.disabled = true;
  const ack = await emitWithAck("add_money", { amount }, 20000);
  submit.disabled = false;
  if (!ack.ok) {
    if (tab) tab.close();
    return fail(ack.message ? `Could not start the payment: ${ack.message}.` : "Could not start the payment.");
  }
  okBox.replaceChildren(`Payment of ${formatBRL(amount)} started. `);
  const link = document.createElement("a");
  link.href = ack.payment_url;
  link.target = "_blank";
  link.rel = "noopener";
  link.textContent = "Open the payment page";
  link.dataset.paymentLink = "";
  okBox.append(link, " — your balance updates here as soon as it is paid.");
  show(okBox, true);
  input.value = "";
  if (tab) {
    tab.opener = null;
    tab.location.href = ack.payment_url;
  }
});
