// The dashboard's only script besides htmx: the CSRF header on htmx requests, and errors of
// htmx requests shown in the page's error region (htmx does not swap 4xx/5xx answers).
"use strict";
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) event.detail.headers["X-CSRF-Token"] = meta.content;
});
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 400) {
    event.detail.shouldSwap = false;
    const region = document.getElementById("errors");
    if (region) region.innerHTML = event.detail.xhr.responseText;
  } else {
    const region = document.getElementById("errors");
    if (region && event.detail.requestConfig && event.detail.requestConfig.verb !== "get") region.innerHTML = "";
  }
});
document.addEventListener("htmx:sendError", () => {
  const region = document.getElementById("errors");
  if (region) region.textContent = "The service did not answer; check your connection and try again.";
});
// A form with data-confirm asks first (revoking a token, ...): nothing is sent unless confirmed.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
