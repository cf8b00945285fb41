// Openjourney Studio's small behaviours. No inline scripts anywhere: everything is here.
"use strict";

document.addEventListener("click", (event) => {
  // Close the account menu when clicking outside it.
  document.querySelectorAll("details.account-menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
