// Draws the B12 and homocysteine chart of the labs page with Chart.js. The data comes from a
// <script type="application/json" id="lab-chart-data"> written by Django's json_script filter
// (the CSP forbids inline scripts); the same values are in the table under the chart.
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("lab-chart");
  const source = document.getElementById("lab-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const flat = (value) => data.labels.map(() => value);
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        {
          label: data.text.b12,
          data: data.b12,
          yAxisID: "b12",
          borderColor: "#0b5394",
          backgroundColor: "#0b5394",
          pointRadius: 5,
          pointStyle: "circle",
          spanGaps: true,
        },
        {
          label: data.text.b12Target,
          data: flat(data.b12Target),
          yAxisID: "b12",
          borderColor: "#0b5394",
          borderDash: [6, 6],
          borderWidth: 1.5,
          pointRadius: 0,
        },
        {
          label: data.text.homocysteine,
          data: data.homocysteine,
          yAxisID: "homocysteine",
          borderColor: "#a4400f",
          backgroundColor: "#a4400f",
          pointRadius: 5,
          pointStyle: "rectRot",
          spanGaps: true,
        },
        {
          label: data.text.homocysteineTarget,
          data: flat(data.homocysteineTarget),
          yAxisID: "homocysteine",
          borderColor: "#a4400f",
          borderDash: [2, 4],
          borderWidth: 1.5,
          pointRadius: 0,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduceMotion ? false : undefined,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 18 } } },
      scales: {
        b12: {
          type: "linear",
          position: "left",
          beginAtZero: true,
          title: { display: true, text: data.text.b12 },
        },
        homocysteine: {
          type: "linear",
          position: "right",
          beginAtZero: true,
          grid: { drawOnChartArea: false },
          title: { display: true, text: data.text.homocysteine },
        },
      },
    },
  });
});
