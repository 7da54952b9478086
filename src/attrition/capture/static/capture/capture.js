// The submit form's drop zone: files dropped on it join the file input, links dropped on it join
// the URL list. Without this script the plain form works the same, without dropping.
(function () {
  "use strict";

  function sizeText(bytes) {
    var units = ["bytes", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i += 1; }
    return (i ? bytes.toFixed(1) : String(bytes)) + " " + units[i];
  }

  function setUp(zone) {
    var input = zone.querySelector("input[type=file]");
    var list = zone.querySelector("[data-dropzone-list]");
    var hint = zone.querySelector("[data-dropzone-hint]");
    var form = zone.closest("form");
    var urls = form && form.querySelector("textarea[name=urls]");
    var maxBytes = Number(zone.getAttribute("data-max-bytes")) || Infinity;
    if (!input || typeof DataTransfer === "undefined") { return; }
    if (hint) { hint.hidden = false; }

    function show() {
      list.textContent = "";
      Array.prototype.forEach.call(input.files, function (file) {
        var item = document.createElement("li");
        item.textContent = file.name + " (" + sizeText(file.size) + ")";
        if (file.size > maxBytes) {
          item.className = "too-big";
          item.textContent += ": larger than the " + sizeText(maxBytes) + " limit, it will be refused";
        }
        list.appendChild(item);
      });
    }

    function addFiles(files) {
      var all = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (file) { all.items.add(file); });
      Array.prototype.forEach.call(files, function (file) { all.items.add(file); });
      input.files = all.files;
      show();
    }

    function addLinks(text) {
      if (!urls || !text) { return; }
      var lines = text.split(/\r?\n/).filter(function (line) { return line && line.charAt(0) !== "#"; });
      if (!lines.length) { return; }
      var current = urls.value.replace(/\s+$/, "");
      urls.value = (current ? current + "\n" : "") + lines.join("\n") + "\n";
    }

    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("is-over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("is-over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      var data = event.dataTransfer;
      if (data.files && data.files.length) {
        addFiles(data.files);
      } else {
        addLinks(data.getData("text/uri-list") || data.getData("text/plain"));
      }
    });
    input.addEventListener("change", show);
    var button = form && form.querySelector("button[type=submit]");
    if (button) {
      var label = button.textContent;
      form.addEventListener("submit", function () {
        button.disabled = true;
        button.textContent = input.files.length ? "Uploading…" : "Submitting…";
      });
      // Coming back to the page from history must not leave the button disabled.
      window.addEventListener("pageshow", function () {
        button.disabled = false;
        button.textContent = label;
      });
    }
  }

  document.querySelectorAll("[data-dropzone]").forEach(setUp);
})();
