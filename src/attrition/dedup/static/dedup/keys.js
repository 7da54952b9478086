// Keyboard shortcuts for the duplicate review page: m, d or n presses the matching button,
// unless the reviewer is typing in a field.
document.addEventListener("keydown", function (event) {
  var target = event.target;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return;
  var button = document.querySelector('button[data-key="' + event.key + '"]');
  if (button) {
    event.preventDefault();
    button.click();
  }
});
