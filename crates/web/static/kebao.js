// The UI works without JavaScript; this file only adds conveniences. It is a file rather
// than inline script so that the content security policy can forbid inline script.
document.addEventListener("click", function (e) {
  var t = e.target;
  if (!(t instanceof Element)) return;
  if (t.closest("[data-print]")) {
    e.preventDefault();
    window.print();
  } else if (t.closest("a[data-back]") && window.history.length > 1) {
    e.preventDefault();
    window.history.back();
  }
});
// A form whose effect cannot be undone asks first (data-confirm holds the question).
document.addEventListener("submit", function (e) {
  var f = e.target;
  if (!(f instanceof HTMLFormElement)) return;
  var q = f.getAttribute("data-confirm");
  if (q && !window.confirm(q)) e.preventDefault();
});
// "Add rows" on the rating plan's form adds a blank row in place; without JavaScript the
// button sends the form and the page comes back with more rows.
document.addEventListener("click", function (e) {
  var t = e.target;
  if (!(t instanceof Element)) return;
  var b = t.closest("button[data-add-rows]");
  if (!b || !b.form) return;
  var body = document.getElementById(b.getAttribute("data-add-rows"));
  var count = b.form.elements.namedItem(b.value + ".rows");
  if (!body || !body.lastElementChild || !(count instanceof HTMLInputElement)) return;
  e.preventDefault();
  var n = parseInt(count.value, 10) || 0;
  var row = body.lastElementChild.cloneNode(true);
  row.classList.remove("has-error");
  row.querySelectorAll("input, select").forEach(function (el) {
    el.name = el.name.replace(/\.\d+\.(\w+)$/, "." + n + ".$1");
    if (el instanceof HTMLSelectElement) el.selectedIndex = 0;
    else el.value = "";
  });
  row.querySelectorAll(".field-error").forEach(function (d) { d.textContent = ""; });
  body.appendChild(row);
  count.value = String(n + 1);
});
