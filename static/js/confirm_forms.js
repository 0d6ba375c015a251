// Forms whose action cannot be undone (an admin finishing or cancelling an auction) ask first.

for (const form of document.querySelectorAll("form[data-confirm-message]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirmMessage)) event.preventDefault();
  });
}
