// Trades an API key for the view's session cookie, then opens the view.
const form = document.getElementById("login");
const error = document.getElementById("login-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const apiKey = new FormData(form).get("api_key");
  const response = await fetch("/ui/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ api_key: apiKey }),
    credentials: "same-origin",
  });
  if (response.ok) {
    window.location.assign("/ui/");
    return;
  }
  let detail = `login failed (${response.status})`;
  try {
    detail = (await response.json()).detail || detail;
  } catch {
    // not JSON: keep the status line
  }
  error.textContent = detail;
  error.hidden = false;
});
