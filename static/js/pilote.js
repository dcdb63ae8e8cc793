// Pilote's small behaviours. Loaded with defer; everything works without it.
(function () {
  "use strict";
  // The language switcher submits on change; its button stays for no-JS use.
  document.addEventListener("change", function (event) {
    var select = event.target.closest(".language-switcher select");
    if (select) { select.form.requestSubmit(); }
  });
})();
