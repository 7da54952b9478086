/* The territory map: district outlines as the base layer (no tile server needed), coloured by
   each district's verified status on the slider's date, fetched from the server as it moves. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("t-config").textContent);
  var slider = document.getElementById("t-slider");
  var label = document.getElementById("t-date-label");
  var play = document.getElementById("t-play");
  var summary = document.getElementById("t-summary");
  var timeline = document.getElementById("t-timeline");
  var DAY = 86400000;
  var start = Date.parse(cfg.start + "T00:00:00Z");
  var units = {};
  var current = cfg.date;
  var asked = 0;
  var timer = null;

  var map = L.map("t-map", { zoomSnap: 0.25, preferCanvas: false });
  if (cfg.tileUrl) {
    L.tileLayer(cfg.tileUrl, { attribution: cfg.tileAttribution, maxZoom: 14 }).addTo(map);
  }
  map.attributionControl.setPrefix(false);
  if (cfg.attribution) { map.attributionControl.addAttribution(cfg.attribution); }
  if (cfg.extent) {
    map.fitBounds([[cfg.extent[1], cfg.extent[0]], [cfg.extent[3], cfg.extent[2]]]);
  } else {
    map.setView([0, 0], 2);
  }

  function dateAt(n) { return new Date(start + n * DAY).toISOString().slice(0, 10); }

  function styleFor(feature) {
    var s = units[feature.id] || { status: "unknown" };
    return {
      color: "#ffffff",
      weight: 0.6,
      fillColor: cfg.colours[s.status] || cfg.colours.unknown,
      fillOpacity: s.stale ? 0.4 : 0.85,
      dashArray: s.status === "claimed" ? "3 3" : null,
      className: "t-unit t-unit-" + feature.properties.code
    };
  }

  // Names come from imported boundaries: text, never markup.
  function escape(text) {
    var el = document.createElement("span");
    el.textContent = text == null ? "" : String(text);
    return el.innerHTML;
  }

  function tip(feature) {
    var p = feature.properties;
    var s = units[feature.id] || { status: "unknown", status_label: "unknown" };
    var text = "<strong>" + escape(p.name) + "</strong>, " + escape(p.province) + "<br>" +
      escape(s.status_label);
    if (s.since) { text += " since " + escape(s.since); }
    if (s.confirmed) {
      text += "<br>last confirmed " + escape(s.confirmed) +
        (s.age_days ? " (" + escape(s.age_days) + " days before)" : "");
    }
    if (s.assessed) { text += "<br>last assessed: " + escape(cfg.labels[s.assessed]); }
    return text;
  }

  function mark(layer) {
    var el = layer.getElement && layer.getElement();
    var s = units[layer.feature.id] || { status: "unknown" };
    if (el) {
      el.setAttribute("data-status", s.status);
      el.setAttribute("data-code", layer.feature.properties.code);
    }
  }

  function openTimeline(code) {
    var url = cfg.unit.replace("CODE", encodeURIComponent(code)) + "?fragment=1&date=" + current;
    fetch(url, { headers: { "HX-Request": "true" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        timeline.innerHTML = html;
        timeline.scrollIntoView({ behavior: "smooth", block: "nearest" });
      });
  }

  var layer = L.geoJSON(null, {
    style: styleFor,
    onEachFeature: function (feature, l) {
      l.bindTooltip(function () { return tip(feature); }, { sticky: true, className: "t-tip" });
      l.on("click", function () { openTimeline(feature.properties.code); });
      l.on("add", function () { mark(l); });
    }
  }).addTo(map);

  function redraw() {
    layer.eachLayer(function (l) { l.setStyle(styleFor(l.feature)); mark(l); });
    document.getElementById("t-map").setAttribute("data-date", current);
  }

  function load(date) {
    var mine = ++asked;
    return fetch(cfg.status + "?date=" + date)
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (mine !== asked) { return; }
        units = data.units;
        current = data.date;
        summary.innerHTML = data.panel;
        redraw();
        var url = new URL(window.location.href);
        url.searchParams.set("date", current);
        window.history.replaceState(null, "", url);
      });
  }

  var pending = null;
  slider.addEventListener("input", function () {
    label.textContent = dateAt(Number(slider.value));
    clearTimeout(pending);
    pending = setTimeout(function () { load(dateAt(Number(slider.value))); }, 120);
  });

  function stop() {
    clearInterval(timer);
    timer = null;
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
  }

  play.addEventListener("click", function () {
    if (timer) { stop(); return; }
    if (Number(slider.value) >= cfg.days) { slider.value = 0; }
    var step = Math.max(1, Math.round(cfg.days / 120));
    play.textContent = "Pause";
    play.setAttribute("aria-pressed", "true");
    timer = setInterval(function () {
      var next = Math.min(cfg.days, Number(slider.value) + step);
      slider.value = next;
      label.textContent = dateAt(next);
      load(dateAt(next));
      if (next >= cfg.days) { stop(); }
    }, 350);
  });

  fetch(cfg.geometry)
    .then(function (r) { return r.json(); })
    .then(function (data) {
      layer.addData(data);
      if (!cfg.extent) { map.fitBounds(layer.getBounds()); }
      return load(current);
    });
})();
