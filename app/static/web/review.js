// The review queue's keyboard: j/k move between cards, a approves, r goes to the reason field,
// x selects. Keys never act while the person types in a field or holds a modifier.
"use strict";
(() => {
  let current = null;
  let index = 0;

  const cards = () => Array.from(document.querySelectorAll(".review-card"));

  function typing(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    const field = target.closest("input, textarea, select");
    return Boolean(field) && !(field instanceof HTMLInputElement && ["checkbox", "radio", "button", "submit"].includes(field.type));
  }

  function show(card, focus = true) {
    if (current) current.classList.remove("current");
    current = card || null;
    if (!current) return;
    index = cards().indexOf(current);
    current.classList.add("current");
    if (focus) {
      current.focus();
      current.scrollIntoView({ block: "nearest" });
    }
  }

  function step(by) {
    const all = cards();
    if (!all.length) return;
    const at = current && current.isConnected ? all.indexOf(current) : -1;
    show(all[at < 0 ? (by > 0 ? Math.min(index, all.length - 1) : 0) : Math.max(0, Math.min(all.length - 1, at + by))]);
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    const key = event.key;
    if (key === "j" || key === "k") {
      step(key === "j" ? 1 : -1);
    } else if (!current || !current.isConnected) {
      return;
    } else if (key === "a") {
      current.querySelector("[data-approve]").click();
    } else if (key === "r") {
      current.querySelector("[data-reason]").focus();
    } else if (key === "x") {
      const box = current.querySelector("[data-select]");
      box.checked = !box.checked;
      current.classList.toggle("selected", box.checked);
    } else {
      return;
    }
    event.preventDefault();
  });

  document.addEventListener("focusin", (event) => {
    const card = event.target instanceof Element ? event.target.closest(".review-card") : null;
    if (card && card !== current) show(card, false);
  });

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box instanceof HTMLInputElement && box.matches("[data-select]")) {
      box.closest(".review-card").classList.toggle("selected", box.checked);
    }
  });

  // A card that went (approved or rejected): the next one takes its place and the focus.
  function gone() {
    const all = cards();
    const empty = document.getElementById("review-empty");
    if (empty) empty.hidden = all.length > 0;
    if (current && !current.isConnected) {
      current = null;
      if (all.length) show(all[Math.min(index, all.length - 1)]);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const list = document.querySelector(".review-cards");
    if (list) new MutationObserver(gone).observe(list, { childList: true });
  });
})();
