// Documents: a drop zone on the upload form. The file input keeps working
// without this script; dropping a file only fills that input.
(function () {
  "use strict";

  function titleFrom(name) {
    var base = name.split(/[\\/]/).pop();
    var dot = base.lastIndexOf(".");
    return dot > 0 ? base.slice(0, dot) : base;
  }

  function enhance(form) {
    if (form.dataset.dropReady) { return; }
    form.dataset.dropReady = "1";
    var zone = form.querySelector(".drop-zone");
    var input = form.querySelector("input[type=file]");
    var title = form.querySelector("input[name$=title]");
    var hint = form.querySelector(".drop-hint");
    if (!zone || !input) { return; }
    if (hint) { hint.hidden = false; }

    function fillTitle() {
      if (title && !title.value && input.files.length) {
        title.value = titleFrom(input.files[0].name);
      }
    }
    input.addEventListener("change", fillTitle);

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("is-dragover");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("is-dragover"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) { return; }
      var transfer = new DataTransfer();
      transfer.items.add(files[0]);
      input.files = transfer.files;
      fillTitle();
      input.focus();
    });
  }

  function init(root) {
    (root || document).querySelectorAll("form[data-drop-zone]").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
}());
