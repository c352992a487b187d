// The rule editor: after the query's check is swapped in, the query and scope fields say whether
// they are at fault (aria-invalid), so a screen reader hears it on the field as well as in the region.
"use strict";
document.addEventListener("htmx:afterSwap", (event) => {
  const region = event.detail.target;
  if (!region || region.id !== "query-check") return;
  const fault = region.querySelector("[data-valid='false']");
  const where = fault ? fault.dataset.field : null;
  for (const name of ["query", "scope"]) {
    const input = document.getElementById("f-" + name);
    if (!input) continue;
    if (where === name) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    const box = input.closest(".field");
    if (box) box.classList.toggle("has-error", where === name);
  }
});

// A refused save: take the keyboard to the first field at fault (the summary above says how many).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("rule-form");
  if (!form || !form.querySelector("[aria-invalid='true']")) return;
  if (!document.querySelector("main > .error-text")) return;
  form.querySelector("[aria-invalid='true']").focus();
});

// Explain and preview refused (a mistake in the query, a follower count that is not a number): the
// message goes under the button pressed too, not only in the page's error region at the top.
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  if (event.detail.xhr.status < 400 || !target) return;
  if (target.id === "explain-result" || target.id === "preview-result") target.innerHTML = event.detail.xhr.responseText;
});
