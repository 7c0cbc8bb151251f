// The dashboard's only script (same origin, allowed by the CSP):
// - re-fetches the live regions ([data-refresh-url]) without reloading the
//   page, so an open modal and the scroll position stay as they are;
// - opens the close confirmation in a modal (the links work without JS too);
// - disables a submitted form's button (the form's idempotency key already
//   makes a double submit harmless).
(function () {
  "use strict";

  function refresh(el) {
    var url = el.getAttribute("data-refresh-url");
    var ms = parseInt(el.getAttribute("data-refresh-ms") || "10000", 10);
    var stopWhenFinished = el.hasAttribute("data-stop-when-finished");
    function finished() {
      return stopWhenFinished && el.querySelector('[data-finished="1"]') !== null;
    }
    function tick() {
      if (finished()) return;
      if (document.hidden) { setTimeout(tick, ms); return; }
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) {
          if (r.status === 401) { window.location.reload(); return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== undefined) {
            var y = window.scrollY;
            el.innerHTML = html;
            window.scrollTo(window.scrollX, y);
          }
        })
        .catch(function () { /* offline: try again next time */ })
        .then(function () { setTimeout(tick, ms); });
    }
    setTimeout(tick, ms);
  }

  function openClose(basketId) {
    var dlg = document.getElementById("close-modal");
    var body = document.getElementById("close-modal-body");
    if (!dlg || typeof dlg.showModal !== "function") return false;
    var url = "/fragment/close" + (basketId ? "?basket_id=" + encodeURIComponent(basketId) : "");
    body.textContent = "Loading…";
    dlg.showModal();
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { body.innerHTML = html; var b = document.getElementById("confirm-close"); if (b) b.focus(); })
      .catch(function () { body.textContent = "Could not load the confirmation. Reload the page."; });
    return true;
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) return;
    var open = t.closest(".js-close");
    if (open) {
      if (openClose(open.getAttribute("data-close-basket"))) ev.preventDefault();
      return;
    }
    var cancel = t.closest(".js-cancel");
    if (cancel && cancel.closest("dialog")) {
      ev.preventDefault();
      cancel.closest("dialog").close();
    }
  });

  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (!(f instanceof HTMLFormElement) || !f.classList.contains("js-once")) return;
    if (f.getAttribute("data-sent") === "1") { ev.preventDefault(); return; }
    f.setAttribute("data-sent", "1");
    var b = f.querySelector("button[type=submit], button:not([type])");
    if (b) { b.setAttribute("aria-busy", "true"); b.textContent = "Sending…"; }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var els = document.querySelectorAll("[data-refresh-url]");
    for (var i = 0; i < els.length; i++) refresh(els[i]);
  });
})();
