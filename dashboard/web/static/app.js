// hookgate dashboard: small progressive enhancements. Every page works as
// plain forms; this adds dialogs, tabs, secret tools and the live preview.
(function () {
  "use strict";
  var body = document.body, base = body.dataset.base || "/ui", csrf = body.dataset.csrf || "";
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // A page answering a POST (the one-time secret) takes the URL of its
  // webhook, so a reload is a GET there instead of posting the form again.
  var replace = $("[data-replace-url]");
  if (replace && window.history.replaceState) history.replaceState(null, "", replace.dataset.replaceUrl);

  // Dialogs: <dialog> gives focus trapping and Escape for free.
  $$("[data-open]").forEach(function (b) {
    b.addEventListener("click", function () { var d = document.getElementById(b.dataset.open); if (d) d.showModal(); });
  });
  $$("dialog [data-close]").forEach(function (b) {
    b.addEventListener("click", function () { b.closest("dialog").close(); });
  });
  $$("dialog[data-open-now]").forEach(function (d) { d.showModal(); });

  // Tabs (WAI-ARIA pattern): click or arrow keys.
  $$("[role=tablist]").forEach(function (list) {
    var tabs = $$("[role=tab]", list);
    function select(t) {
      tabs.forEach(function (o) {
        var on = o === t;
        o.setAttribute("aria-selected", on); o.tabIndex = on ? 0 : -1;
        document.getElementById(o.getAttribute("aria-controls")).hidden = !on;
      });
      t.focus();
    }
    tabs.forEach(function (t, i) {
      t.addEventListener("click", function () { select(t); });
      t.addEventListener("keydown", function (e) {
        if (e.key === "ArrowRight") select(tabs[(i + 1) % tabs.length]);
        if (e.key === "ArrowLeft") select(tabs[(i - 1 + tabs.length) % tabs.length]);
      });
    });
    // Show the tab holding a field the browser refuses, so its message is seen.
    var form = list.closest("form");
    if (form) form.addEventListener("invalid", function (e) {
      var panel = e.target.closest("[role=tabpanel]");
      if (panel && panel.hidden) select(document.getElementById(panel.getAttribute("aria-labelledby")));
    }, true);
  });

  // Secrets: show/hide, copy, regenerate (a v4 UUID, as the API expects).
  function uuid4() {
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  $$("[data-toggle-secret]").forEach(function (b) {
    b.addEventListener("click", function () {
      var i = document.getElementById(b.dataset.toggleSecret), show = i.type === "password";
      i.type = show ? "text" : "password"; b.setAttribute("aria-pressed", show);
      b.textContent = show ? "Hide" : "Show";
    });
  });
  $$("[data-copy]").forEach(function (b) {
    b.addEventListener("click", function () {
      var i = document.getElementById(b.dataset.copy), done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(i.value).then(done);
      else { var t = i.type; i.type = "text"; i.select(); document.execCommand("copy"); i.type = t; done(); }
    });
  });
  $$("[data-regen]").forEach(function (b) {
    b.addEventListener("click", function () { document.getElementById(b.dataset.regen).value = uuid4(); });
  });

  // Events: "subscribe to all" and a filter over the 33 names.
  $$("[data-all-events]").forEach(function (all) {
    var boxes = $$("input[name=events]", all.closest("fieldset"));
    all.addEventListener("change", function () { boxes.forEach(function (b) { b.checked = all.checked; }); });
    boxes.forEach(function (b) { b.addEventListener("change", function () { all.checked = boxes.every(function (x) { return x.checked; }); }); });
    all.checked = boxes.length > 0 && boxes.every(function (x) { return x.checked; });
  });
  $$("[data-event-filter]").forEach(function (f) {
    f.addEventListener("input", function () {
      var s = f.value.toLowerCase();
      $$(".evlist label", f.closest("fieldset")).forEach(function (l) { l.hidden = s && l.textContent.toLowerCase().indexOf(s) < 0; });
    });
    f.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
  });

  // Custom headers: add a row; names starting with x-fn- are refused, as the API does.
  $$("[data-add-header]").forEach(function (b) {
    var sec = b.closest("section"), name = $("[data-new-header-name]", sec), val = $("[data-new-header-value]", sec), err = $("[data-header-error]", sec);
    b.addEventListener("click", function () {
      var n = name.value.trim();
      err.textContent = "";
      if (!n) { err.textContent = "Give the header a name."; name.focus(); return; }
      if (/^x-fn-/i.test(n)) { err.textContent = "Names starting with X-FN- are reserved for the gateway's own headers."; name.focus(); return; }
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(n)) { err.textContent = "A header name is letters, digits and - (no spaces)."; name.focus(); return; }
      var tr = document.createElement("tr");
      tr.innerHTML = '<td><input name="header_name" readonly aria-label="Header name"></td><td><input name="header_value" aria-label="Header value"></td><td><button type="button" class="btn ghost small" aria-label="Remove header">Remove</button></td>';
      $$("input", tr)[0].value = n; $$("input", tr)[1].value = val.value;
      $("button", tr).addEventListener("click", function () { tr.remove(); name.focus(); });
      $("[data-headers] tbody", sec).appendChild(tr);
      name.value = ""; val.value = ""; name.focus();
    });
  });

  $$("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) { if (!confirm(f.dataset.confirm)) e.preventDefault(); });
  });
  $$("[data-autosubmit]").forEach(function (s) { s.addEventListener("change", function () { s.form.submit(); }); });
  $$("[data-refresh]").forEach(function (a) { a.addEventListener("click", function (e) { e.preventDefault(); location.reload(); }); });

  // Live preview: POST the templates and the sample to /ui/preview (which
  // calls the API's preview with the HttpOnly token) after a short pause.
  var ed = $("[data-preview]");
  if (ed) {
    var pt = $("#payloadTemplate"), ut = $("#urlTemplate"), sample = $("#sample");
    var out = $("#preview-body"), outURL = $("#preview-url"), err = $("#preview-error"), timer, seq = 0;
    var lineCol = function (text, pos) {
      var before = text.slice(0, pos).split("\n");
      return "line " + before.length + ", column " + (before[before.length - 1].length + 1);
    };
    var run = function () {
      var n = ++seq, payload = null;
      try { payload = sample.value.trim() ? JSON.parse(sample.value) : null; sample.removeAttribute("aria-invalid"); }
      catch (x) { sample.setAttribute("aria-invalid", "true"); err.hidden = false; err.textContent = "The sample is not valid JSON: " + x.message; return; }
      fetch(base + "/preview", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
        body: JSON.stringify({ payloadTemplate: pt.value, urlTemplate: ut.value, payload: payload })
      }).then(function (r) {
        if (r.status === 401) { location.href = base + "/login?expired=1&next=" + encodeURIComponent(location.pathname + location.search); return null; }
        return r.json();
      }).then(function (j) {
        if (!j || n !== seq) return;
        pt.removeAttribute("aria-invalid"); ut.removeAttribute("aria-invalid");
        if (j.error) {
          var where = "", field = j.template === "url" ? ut : pt;
          if (typeof j.position === "number") where = " (at " + lineCol(field.value, j.position) + " of the " + (j.template || "payload") + " template)";
          err.textContent = j.error + where; err.hidden = false; field.setAttribute("aria-invalid", "true");
          ed.dataset.state = "error";
        } else {
          err.hidden = true; out.textContent = j.body; outURL.textContent = j.url; ed.dataset.state = "ok";
        }
      });
    };
    var later = function () { clearTimeout(timer); timer = setTimeout(run, 250); };
    [pt, ut, sample].forEach(function (el) { el.addEventListener("input", later); });
    run();
  }
})();
