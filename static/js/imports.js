// The import page: while the one-request import runs, say so (the button
// text, aria-busy on the form, a status message), and prevent a second click.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-import-form]")) { return; }
    var button = event.submitter;
    if (!button || button.value !== "import") { return; }
    form.setAttribute("aria-busy", "true");
    var progress = document.getElementById("import-progress");
    if (progress) { progress.hidden = false; }
    if (button.dataset.busyText) { button.textContent = button.dataset.busyText; }
    // Disabled only after the browser read the button's name and value.
    window.setTimeout(function () { button.disabled = true; }, 0);
  });
})();
