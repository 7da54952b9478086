// Keyboard shortcuts of the review pages, off while typing in a field.
// Lists: j / k move the current row, Enter opens it. A loss: a key presses the button marked
// data-key="<key>" (a form that needs a reason gets its reason field focused first), and
// data-key-link="<key>" follows a link.
(function () {
  var current = -1;
  function rows() { return document.querySelectorAll("[data-list] [data-row]"); }
  function mark(i) {
    var all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (r, n) { r.classList.toggle("current", n === current); });
    all[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    if (event.key === "j" || event.key === "k") {
      if (!rows().length) return;
      event.preventDefault();
      mark(current + (event.key === "j" ? 1 : -1));
      return;
    }
    if (event.key === "Enter" && current >= 0) {
      var open = rows()[current].querySelector("[data-open]");
      if (open) { event.preventDefault(); open.click(); }
      return;
    }
    var link = document.querySelector('[data-key-link="' + event.key + '"]');
    if (link) { event.preventDefault(); link.click(); return; }
    var button = document.querySelector('button[data-key="' + event.key + '"]');
    if (!button) return;
    event.preventDefault();
    var needed = button.form && button.form.querySelector("[required]");
    if (needed && !needed.value.trim()) { needed.focus(); return; }
    button.click();
  });
})();
