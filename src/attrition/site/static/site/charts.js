/* Charts of losses over time: per period (stacked by fate, category or side) and cumulative. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var palette = ["#8a1c1c", "#1a4f8b", "#b35900", "#2e7d32", "#6a1b9a", "#00838f", "#5d4037",
                 "#c2185b", "#455a64", "#9e9d24"];
  var datasets = data.series.map(function (s, i) {
    return { label: s.label, data: s.data, backgroundColor: palette[i % palette.length] };
  });
  var common = { animation: false, responsive: true, maintainAspectRatio: false };
  new Chart(document.getElementById("chart-periods"), {
    type: "bar",
    data: { labels: data.periods, datasets: datasets },
    options: Object.assign({}, common, {
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } }
    })
  });
  new Chart(document.getElementById("chart-cumulative"), {
    type: "line",
    data: {
      labels: data.periods,
      datasets: [{ label: "Total so far", data: data.cumulative, borderColor: "#8a1c1c",
                   backgroundColor: "rgba(138, 28, 28, 0.15)", fill: true, pointRadius: 0 }]
    },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
  });
})();
