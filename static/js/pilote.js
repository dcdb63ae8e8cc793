// Pilote's small behaviours. Loaded with defer; every page works without it.
(function () {
  "use strict";

  // The language switcher submits on change; its button stays for no-JS use.
  document.addEventListener("change", function (event) {
    var select = event.target.closest(".language-switcher select");
    if (select) { select.form.requestSubmit(); }
  });

  // --- Dialogs: a refused move arrives as <dialog data-autoopen>. ---------
  // querySelectorAll from `root`, `root` itself included (htmx:load passes the
  // swapped element).
  function within(root, selector) {
    var found = Array.prototype.slice.call((root || document).querySelectorAll(selector));
    if (root && root.matches && root.matches(selector)) { found.unshift(root); }
    return found;
  }

  function openDialogs(root) {
    within(root, "dialog[data-autoopen]:not([open])").forEach(function (dialog) {
      dialog.addEventListener("close", function () { dialog.remove(); });
      dialog.showModal();
    });
  }

  // A successful submit from inside a dialog (the move went through) closes it.
  document.addEventListener("htmx:afterRequest", function (event) {
    var dialog = event.target.closest && event.target.closest("dialog");
    if (dialog && event.detail.successful) { dialog.close(); }
  });

  // --- Board: drag and drop enhances each card's "move to" form. -----------
  var dragging = false;

  function submitMove(card, targetCode) {
    var form = card.querySelector(".move-form");
    if (!form) { return; }
    var select = form.querySelector("select[name=target]");
    if (!select.querySelector('option[value="' + CSS.escape(targetCode) + '"]')) {
      // Not a move this card offers: post it anyway, the server explains why not.
      var option = document.createElement("option");
      option.value = targetCode;
      option.textContent = targetCode;
      select.appendChild(option);
    }
    select.value = targetCode;
    form.requestSubmit();
  }

  function initBoard(root) {
    if (typeof Sortable === "undefined") { return; }
    within(root, ".board .column-cards").forEach(function (list) {
      if (list.dataset.sortable) { return; }
      list.dataset.sortable = "1";
      list.querySelectorAll(".card").forEach(function (card) {
        if (card.querySelector(".move-form")) { card.setAttribute("data-draggable", ""); }
      });
      Sortable.create(list, {
        group: "board",
        draggable: ".card[data-draggable]",
        filter: "select, button, input, a",
        preventOnFilter: false,
        animation: 120,
        onStart: function () { dragging = true; },
        onEnd: function (event) {
          dragging = false;
          if (event.from !== event.to) { submitMove(event.item, event.to.dataset.status); }
        }
      });
    });
  }

  // --- Managers' boards refresh themselves while the tab is visible. -------
  var refreshTimer = null;
  function scheduleRefresh() {
    var board = document.getElementById("board");
    if (refreshTimer || !board || !board.dataset.refreshSeconds) { return; }
    refreshTimer = window.setInterval(function () {
      var current = document.getElementById("board");
      if (!current || document.visibilityState !== "visible" || dragging) { return; }
      if (document.querySelector("dialog[open]") || current.querySelector(".htmx-request")) { return; }
      if (current.contains(document.activeElement) && document.activeElement.tagName === "SELECT") { return; }
      htmx.ajax("GET", current.dataset.refreshUrl, { target: "#board", swap: "outerHTML" });
    }, Number(board.dataset.refreshSeconds) * 1000);
  }

  // After a move the whole board is re-rendered: give the focus back to the
  // moved card, so keyboard users carry on where they were.
  var movedCardId = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var card = event.target.closest && event.target.closest(".card");
    var form = event.target.closest && event.target.closest("form");
    if (form && form.action && form.action.indexOf("/move/") !== -1) {
      movedCardId = card ? card.id : (form.dataset.card || movedCardId);
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!movedCardId || document.querySelector("dialog[open]")) { return; }
    var card = document.getElementById(movedCardId);
    movedCardId = null;
    if (card) {
      var target = card.querySelector("select[name=target]") || card.querySelector("a");
      if (target) { target.focus(); }
    }
  });

  function enhance(root) {
    openDialogs(root);
    initBoard(root);
    scheduleRefresh();
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
})();
