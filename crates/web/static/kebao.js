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
