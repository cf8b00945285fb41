// Openjourney Studio's small behaviours. No inline scripts anywhere: everything is here.
"use strict";

document.addEventListener("click", (event) => {
  // Close the account menu when clicking outside it.
  document.querySelectorAll("details.account-menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });

  // The seed's dice: a random 32-bit seed, and the lock released.
  const dice = event.target.closest("[data-dice]");
  if (dice) {
    const input = document.querySelector(dice.dataset.dice);
    if (input) {
      const values = new Uint32Array(1);
      crypto.getRandomValues(values);
      input.value = String(values[0]);
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
});

// Image inputs: show only the panel of the chosen source (gallery, upload or link).
function syncImageInputs(root) {
  root.querySelectorAll("[data-image-input]").forEach((fieldset) => {
    const checked = fieldset.querySelector(".source-tabs input:checked");
    const source = checked ? checked.value : "gallery";
    fieldset.querySelectorAll(".source-panel").forEach((panel) => {
      panel.hidden = panel.dataset.source !== source;
    });
  });
}

document.addEventListener("change", (event) => {
  if (event.target.closest(".source-tabs")) syncImageInputs(document);
});

// Elapsed time on unfinished job cards, ticking between server updates.
function tickElapsed() {
  const now = Date.now();
  document.querySelectorAll(".elapsed[data-since]").forEach((el) => {
    const since = Date.parse(el.dataset.since);
    if (!Number.isNaN(since)) el.textContent = `${((now - since) / 1000).toFixed(1)} s`;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  syncImageInputs(document);
  setInterval(tickElapsed, 500);
});
document.addEventListener("htmx:afterSettle", (event) => syncImageInputs(event.target));
