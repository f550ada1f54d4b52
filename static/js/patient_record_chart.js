// Draws the nurse's timeline on the patient record and the visit report with Chart.js:
// doses per week or month stacked by status, and B12 and homocysteine against the
// thresholds of clinical-rules section 3. The data comes from a
// <script type="application/json" id="record-chart-data"> written by Django's json_script
// (the CSP forbids inline scripts); the page has the same numbers as tables.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("record-chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const animation = reduceMotion ? false : undefined;
  const legend = { position: "bottom", labels: { boxWidth: 18 } };

  const dosesCanvas = document.getElementById("record-doses-chart");
  if (dosesCanvas) {
    // Green, red, brown and pale blue, each named in the legend; the table says the same.
    const series = [
      ["taken", "#146c43"],
      ["missed", "#b02a37"],
      ["skipped", "#8a5300"],
      ["planned", "#9ec5fe"],
    ];
    new Chart(dosesCanvas, {
      type: "bar",
      data: {
        labels: data.doses.labels,
        datasets: series.map(([key, colour]) => ({
          label: data.text[key],
          data: data.doses[key],
          backgroundColor: colour,
          borderColor: colour,
          stack: "doses",
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation,
        interaction: { mode: "index", intersect: false },
        plugins: { legend, title: { display: true, text: data.text.doses } },
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  }

  const labsCanvas = document.getElementById("record-labs-chart");
  if (labsCanvas && data.labs.labels.length) {
    const flat = (value) => data.labs.labels.map(() => value);
    const threshold = (label, value, axis, colour, dash) => ({
      label,
      data: flat(value),
      yAxisID: axis,
      borderColor: colour,
      borderDash: dash,
      borderWidth: 1.5,
      pointRadius: 0,
    });
    new Chart(labsCanvas, {
      type: "line",
      data: {
        labels: data.labs.labels,
        datasets: [
          {
            label: data.text.b12,
            data: data.labs.b12,
            yAxisID: "b12",
            borderColor: "#0b5394",
            backgroundColor: "#0b5394",
            pointRadius: 5,
            pointStyle: "circle",
            spanGaps: true,
          },
          threshold(data.text.b12Deficient, data.thresholds.b12Deficient, "b12", "#b02a37", [2, 3]),
          threshold(data.text.b12Normal, data.thresholds.b12Normal, "b12", "#0b5394", [6, 6]),
          {
            label: data.text.homocysteine,
            data: data.labs.homocysteine,
            yAxisID: "homocysteine",
            borderColor: "#a4400f",
            backgroundColor: "#a4400f",
            pointRadius: 5,
            pointStyle: "rectRot",
            spanGaps: true,
          },
          threshold(
            data.text.homocysteineTarget,
            data.thresholds.homocysteineTarget,
            "homocysteine",
            "#a4400f",
            [8, 3, 2, 3],
          ),
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation,
        interaction: { mode: "index", intersect: false },
        plugins: { legend },
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
  }
});
