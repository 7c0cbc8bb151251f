// The basket form's script (same origin, allowed by the CSP):
// - re-fetches the server-rendered preview (/fragment/basket-preview) as the
//   fields change, and shows each error of the answer next to its field;
// - keeps the ladder's lists in step with the chosen preset (typing in a
//   list switches the preset to "custom").
// Without it, the "Refresh preview" button posts the form for the same page.
(function () {
  "use strict";
  var form = document.getElementById("basket-form");
  var preview = document.getElementById("preview");
  if (!form || !preview) return;
  var url = form.getAttribute("data-preview-url");
  var seq = 0;
  var timer = null;

  function query() {
    var p = new URLSearchParams();
    new FormData(form).forEach(function (v, k) {
      if (k !== "_token" && k !== "key") p.append(k, v);
    });
    return p.toString();
  }

  function field(name) {
    return form.elements.namedItem(name);
  }

  function showErrors() {
    var boxes = form.querySelectorAll("[data-error-for]");
    var byName = {};
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].textContent = "";
      byName[boxes[i].getAttribute("data-error-for")] = boxes[i];
    }
    var items = preview.querySelectorAll("#preview-errors li");
    for (var j = 0; j < items.length; j++) {
      var box = byName[items[j].getAttribute("data-field")] || byName[""];
      if (!box) continue;
      var line = document.createElement("span");
      line.className = "block";
      line.textContent = items[j].textContent;
      box.appendChild(line);
    }
  }

  function syncPreset() {
    var body = preview.querySelector("#preview-body");
    var preset = field("preset");
    if (!body || !preset || preset.value === "custom") return;
    var lv = field("levels_pct"), aw = field("alloc_weights"), n = field("levels");
    if (lv) lv.value = body.getAttribute("data-levels-pct");
    if (aw) aw.value = body.getAttribute("data-alloc-weights");
    if (n && preset.value === "defaults") n.value = body.getAttribute("data-levels");
  }

  function refresh() {
    var mine = ++seq;
    var sep = url.indexOf("?") >= 0 ? "&" : "?";
    preview.setAttribute("aria-busy", "true");
    fetch(url + sep + query(), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null || html === undefined || mine !== seq) return;
        preview.innerHTML = html;
        syncPreset();
        showErrors();
      })
      .catch(function () { /* offline: the next change tries again */ })
      .then(function () { if (mine === seq) preview.removeAttribute("aria-busy"); });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  form.addEventListener("input", function (ev) {
    var name = ev.target && ev.target.name;
    if (name === "levels_pct" || name === "alloc_weights") {
      var preset = field("preset");
      if (preset) preset.value = "custom";
    }
    later();
  });
  form.addEventListener("change", later);
  var button = document.getElementById("preview-button");
  if (button) {
    button.addEventListener("click", function (ev) { ev.preventDefault(); refresh(); });
  }
})();
