/* The map of losses: the conflict's district outlines as the base layer (no tile server needed),
   shaded by how many losses each holds, and every loss with a known point as a dot. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("loss-map-config").textContent);
  var map = L.map("loss-map", { zoomSnap: 0.25 });
  map.attributionControl.setPrefix(false);
  if (cfg.tileUrl) {
    L.tileLayer(cfg.tileUrl, { attribution: cfg.tileAttribution, maxZoom: 16 }).addTo(map);
  }
  if (cfg.attribution) { map.attributionControl.addAttribution(cfg.attribution); }
  if (cfg.extent) {
    map.fitBounds([[cfg.extent[1], cfg.extent[0]], [cfg.extent[3], cfg.extent[2]]]);
  } else {
    map.setView([20, 0], 2);
  }
  var counts = cfg.districts || {};
  var most = 0;
  Object.keys(counts).forEach(function (k) { most = Math.max(most, counts[k]); });

  function shade(n) {
    if (!n) { return "#f4f4f2"; }
    var t = Math.sqrt(n / Math.max(most, 1));
    var light = Math.round(92 - t * 52);
    return "hsl(0, 55%, " + light + "%)";
  }

  function escape(text) {
    var el = document.createElement("span");
    el.textContent = text == null ? "" : String(text);
    return el.innerHTML;
  }

  function drawPoints() {
    fetch(cfg.points, { headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var layer = L.geoJSON(data, {
          filter: function (f) { return !!f.geometry; },
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, {
              radius: 5, weight: 1, color: "#222", fillOpacity: 0.85,
              fillColor: cfg.colours[f.properties.side] || "#8a1c1c",
              className: "loss-marker"
            });
          },
          onEachFeature: function (f, l) {
            var p = f.properties;
            l.bindPopup("<a href=\"/losses/" + p.id + "/\">" + escape(p.model) + "</a>, " +
              escape(p.fate) + "<br>" + escape(p.first_seen || "date unknown"));
          }
        }).addTo(map);
        document.getElementById("loss-map").setAttribute("data-points", layer.getLayers().length);
        if (!cfg.extent && layer.getLayers().length) { map.fitBounds(layer.getBounds().pad(0.2)); }
      });
  }

  if (cfg.outlines) {
    fetch(cfg.outlines)
      .then(function (r) { return r.json(); })
      .then(function (data) {
        L.geoJSON(data, {
          style: function (f) {
            return { color: "#888", weight: 0.5, fillColor: shade(counts[f.properties.code]), fillOpacity: 0.8 };
          },
          onEachFeature: function (f, l) {
            var n = counts[f.properties.code] || 0;
            l.bindTooltip(escape(f.properties.name) + ", " + escape(f.properties.province) + ": " + n +
              " loss" + (n === 1 ? "" : "es"), { sticky: true });
          }
        }).addTo(map);
        drawPoints();
      });
  } else {
    drawPoints();
  }
})();
