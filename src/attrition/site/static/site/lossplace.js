/* A loss's place on a small map: the conflict's district outlines as the base layer (no tile
   server needed), the loss's point as a marker, or its district/province outlined when no
   point is known. */
(function () {
  "use strict";
  var el = document.getElementById("loss-place-map");
  var cfg = JSON.parse(document.getElementById("loss-place-config").textContent);
  var map = L.map(el, { zoomSnap: 0.25, scrollWheelZoom: false });
  map.attributionControl.setPrefix(false);
  if (cfg.tileUrl) {
    L.tileLayer(cfg.tileUrl, { attribution: cfg.tileAttribution, maxZoom: 16 }).addTo(map);
  }
  if (cfg.attribution) { map.attributionControl.addAttribution(cfg.attribution); }
  var centre = cfg.point || cfg.label;
  map.setView(centre || [34, 66], centre ? 8 : 5);

  function drawMarker() {
    if (cfg.point) {
      L.circleMarker(cfg.point, {
        radius: 7, weight: 2, color: "#222", fillOpacity: 0.9,
        fillColor: cfg.colour || "#8a1c1c", className: "loss-marker"
      }).addTo(map);
    }
    el.setAttribute("data-drawn", cfg.point ? "point" : "place");
  }

  if (!cfg.outlines) { drawMarker(); return; }
  fetch(cfg.outlines)
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var place = L.featureGroup();
      var layer = L.geoJSON(data, {
        style: function (f) {
          var here = f.properties.code === cfg.unit || (cfg.province && f.properties.province === cfg.province);
          return here
            ? { color: "#8a1c1c", weight: 2, fillColor: "#e8b4b4", fillOpacity: 0.6 }
            : { color: "#999", weight: 0.5, fillColor: "#f4f4f2", fillOpacity: 0.8 };
        },
        onEachFeature: function (f, l) {
          if (f.properties.code === cfg.unit || (cfg.province && f.properties.province === cfg.province)) {
            place.addLayer(L.geoJSON(f));
          }
        }
      }).addTo(map);
      layer.bringToBack();
      if (!cfg.point && place.getLayers().length) { map.fitBounds(place.getBounds().pad(0.5)); }
      drawMarker();
    })
    .catch(function () { drawMarker(); });
})();
