/* fundflow pages: small enhancements only. Every page works without this file. */
(function () {
  "use strict";
  // "More rows" adds blank rows in place instead of posting the form back to the server.
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[name='_more_rows']");
    if (!button) return;
    var list = document.getElementById("rows-" + button.value.replace(/\./g, "-"));
    if (!list) return;
    var rows = list.querySelectorAll(".row");
    var last = rows[rows.length - 1];
    if (!last) return;
    ev.preventDefault();
    var next = rows.length;
    var copy = last.cloneNode(true);
    var from = new RegExp("^(" + button.value.replace(/\./g, "\\.") + ")\\.(\\d+)\\.");
    copy.querySelectorAll("[name]").forEach(function (el) {
      el.name = el.name.replace(from, "$1." + next + ".");
      if (el.id) el.id = el.id.replace(/-(\d+)-/, "-" + next + "-");
      if (el.type === "checkbox" || el.type === "radio") el.checked = false;
      else if (el.tagName === "SELECT") el.selectedIndex = 0;
      else el.value = "";
    });
    copy.querySelectorAll("label[for]").forEach(function (el) {
      el.htmlFor = el.htmlFor.replace(/-(\d+)-/, "-" + next + "-");
    });
    copy.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    last.after(copy);
    var first = copy.querySelector("input, select, textarea");
    if (first) first.focus();
  });
  // A form is sent once: a second click while the first is on its way does nothing.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.dataset.sent === "1") { ev.preventDefault(); return; }
    if (ev.submitter && ev.submitter.name === "_more_rows") return;
    form.dataset.sent = "1";
    setTimeout(function () { form.dataset.sent = ""; }, 8000);
  });
})();
