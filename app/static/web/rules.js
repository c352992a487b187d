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
