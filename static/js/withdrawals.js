// The wallet page's withdrawals: `withdraw` over the socket, and each row's status live from `withdrawal`.
import { t, withdrawalStatus } from "./i18n.js";
import { emitWithAck, formatBRL, parseReais, show, socket } from "./live.js";

const root = document.querySelector("[data-withdrawals]");
if (root) {
  const form = root.querySelector("[data-withdraw-form]");
  const errorBox = root.querySelector("[data-withdraw-error]");
  const list = root.querySelector("[data-withdrawal-list] tbody");

  // The sentence above the form follows what is on its way out (a withdrawal done or failed takes its part away).
  const inFlight = root.querySelector("[data-in-withdrawal]");
  function showInFlight(cents) {
    if (!inFlight || typeof cents !== "number") return;
    inFlight.textContent = cents > 0 ? t("in_withdrawal", { amount: formatBRL(cents) }) : "";
    show(inFlight, cents > 0);
  }

  function render(payload) {
    showInFlight(payload.in_flight);
    let row = list.querySelector(`[data-withdrawal-id="${payload.withdrawal_id}"]`);
    if (!row) {
      row = document.createElement("tr");
      row.dataset.withdrawalId = payload.withdrawal_id;
      for (let i = 0; i < 5; i += 1) row.append(document.createElement("td"));
      row.children[0].textContent = payload.withdrawal_id;
      row.children[1].textContent = t("now");
      row.children[2].textContent = formatBRL(payload.amount);
      row.children[2].className = "num";
      row.children[3].textContent = `${payload.pix_key_type} ${payload.pix_key}`;
      list.prepend(row);
    }
    const status = document.createElement("span");
    status.className = `status status-${payload.status}`;
    status.dataset.withdrawalStatus = payload.status;
    status.textContent = withdrawalStatus(payload.status);
    row.children[4].replaceChildren(status);
    if (payload.fail_reason) {
      const reason = document.createElement("span");
      reason.className = "muted small";
      reason.dataset.withdrawalReason = "";
      reason.translate = false;
      reason.textContent = ` ${payload.fail_reason}`;
      row.children[4].append(reason);
    }
  }

  if (socket) socket.on("withdrawal", render);

  form.addEventListener("submit", async (event) => {
    if (!socket || !socket.connected) return; // without the socket the form posts
    event.preventDefault();
    show(errorBox, false);
    const amount = parseReais(form.querySelector("[data-withdraw-amount]").value);
    if (amount === null) {
      errorBox.textContent = t("withdraw_amount");
      return show(errorBox, true);
    }
    const payload = {
      amount,
      pix_key: form.querySelector("[data-withdraw-key]").value,
      pix_key_type: form.querySelector("[data-withdraw-key-type]").value,
      // Asked again before money leaves (the step-up): the password, or the authenticator's code.
      password: form.querySelector("[data-withdraw-password]").value,
    };
    const submit = form.querySelector("[data-withdraw-submit]");
    submit.disabled = true;
    const ack = await emitWithAck("withdraw", payload, 30000);
    submit.disabled = false;
    if (!ack.ok) {
      errorBox.textContent = ack.message || t("withdraw_failed");
      return show(errorBox, true);
    }
    form.querySelector("[data-withdraw-amount]").value = "";
    form.querySelector("[data-withdraw-password]").value = "";
  });
}
