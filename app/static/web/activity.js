// The activity log's live rows: htmx replaces them every few seconds; keep the sideways scroll of
// the table (phones) where the person left it.
"use strict";
(() => {
  let left = 0;
  document.addEventListener("htmx:beforeSwap", (event) => {
    const wrap = document.querySelector("#activity-rows .table-wrap");
    if (event.detail.target && event.detail.target.id === "activity-rows" && wrap) left = wrap.scrollLeft;
  });
  document.addEventListener("htmx:afterSettle", () => {
    const wrap = document.querySelector("#activity-rows .table-wrap");
    if (wrap && left) wrap.scrollLeft = left;
  });
})();
