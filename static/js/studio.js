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

// --- Gallery (compare slider, bulk selection) -------------------------------------------------
// Compare: the range input moves the split between the two stacked images (CSS clip-path).
document.addEventListener("input", (event) => {
  const range = event.target.closest("[data-compare-range]");
  if (!range) return;
  const slider = document.getElementById(range.getAttribute("aria-controls"));
  if (slider) slider.style.setProperty("--split", `${range.value}%`);
});

// --- Recall from a file: the PNG drop zone (Made again) -------------------------------------
// [data-recall-drop] is a plain upload form that works without this: choose, then submit.
// Here a PNG dropped on it (or chosen in it) is submitted at once; the server answers with a
// redirect to the matching create form, or the recall page with the reason it can't.
function recallZone(target) {
  return target instanceof Element ? target.closest("[data-recall-drop]") : null;
}

document.addEventListener("dragover", (event) => {
  const zone = recallZone(event.target);
  if (!zone) return;
  event.preventDefault();
  zone.classList.add("is-dragover");
});

document.addEventListener("dragleave", (event) => {
  const zone = recallZone(event.target);
  if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("is-dragover");
});

document.addEventListener("drop", (event) => {
  const zone = recallZone(event.target);
  if (!zone) return;
  event.preventDefault();
  zone.classList.remove("is-dragover");
  const input = zone.querySelector('input[type="file"]');
  if (!input || !event.dataTransfer || !event.dataTransfer.files.length) return;
  input.files = event.dataTransfer.files;
  zone.requestSubmit();
});

document.addEventListener("change", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.type === "file" && input.files.length) {
    const zone = recallZone(input);
    if (zone && zone.classList.contains("recall-drop")) zone.requestSubmit();
  }
});

// The gallery's search form ([data-drop-empty]) leaves its empty fields out of the URL it
// pushes, so a shared search link says only what was asked.
document.addEventListener("htmx:configRequest", (event) => {
  const form = event.detail.elt.closest && event.detail.elt.closest("[data-drop-empty]");
  if (!form) return;
  const data = event.detail.formData;
  for (const key of Array.from(new Set(data.keys()))) {
    if (data.getAll(key).every((value) => value === "")) data.delete(key);
  }
});
