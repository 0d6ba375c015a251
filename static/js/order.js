// The order page: when the other side acts (shipped, confirmed, disputed, resolved), the server sends
// `order` to both; the page reloads to show the new status and the next step.
import { socket } from "./live.js";

const root = document.querySelector("[data-order]");
if (root && socket) {
  socket.on("order", (payload) => {
    if (payload.order_id === Number(root.dataset.orderId) && payload.status !== root.dataset.status) {
      window.location.reload();
    }
  });
}
