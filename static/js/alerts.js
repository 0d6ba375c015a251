// The alerts page: turn Web Push on or off for this device. The browser asks for permission only here,
// after the person pressed the button (never on page load).
const box = document.querySelector("[data-push]");

function urlBase64ToUint8Array(base64) {
  const padded = (base64 + "=".repeat((4 - (base64.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function say(key) {
  const status = box.querySelector("[data-push-status]");
  status.textContent = status.dataset[`msg${key}`] || "";
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

function showSubscribed(on) {
  box.querySelector("[data-push-enable]").hidden = on;
  box.querySelector("[data-push-disable]").hidden = !on;
  box.dataset.subscribed = on ? "true" : "false";
}

async function registration() {
  return navigator.serviceWorker.register("/sw.js", { scope: "/" });
}

async function enable() {
  try {
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      say("Denied");
      return;
    }
    const reg = await registration();
    await navigator.serviceWorker.ready;
    const subscription =
      (await reg.pushManager.getSubscription()) ||
      (await reg.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: urlBase64ToUint8Array(box.dataset.vapidKey),
      }));
    await post(box.dataset.subscribeUrl, subscription.toJSON());
    showSubscribed(true);
    say("On");
  } catch (error) {
    console.warn("push subscription failed", error);
    say("Failed");
  }
}

async function disable() {
  const reg = await navigator.serviceWorker.getRegistration("/");
  const subscription = reg && (await reg.pushManager.getSubscription());
  if (subscription) {
    await post(box.dataset.removeUrl, { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
  }
  showSubscribed(false);
  say("Off");
}

async function start() {
  if (!box) return;
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    box.querySelector("[data-push-enable]").hidden = true;
    say("Unsupported");
    return;
  }
  // Registering the worker asks nothing of the person; only the button asks for permission.
  const reg = await registration();
  box.dataset.worker = "registered";
  const subscription = await reg.pushManager.getSubscription().catch(() => null);
  showSubscribed(Boolean(subscription) && Notification.permission === "granted");
  box.querySelector("[data-push-enable]").addEventListener("click", enable);
  box.querySelector("[data-push-disable]").addEventListener("click", disable);
}

start();
