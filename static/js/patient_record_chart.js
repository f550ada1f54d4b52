// Draws the nurse's timeline on the patient record and the visit report with Chart.js:
// doses per week or month stacked by status, and B12 and homocysteine against the
// thresholds of clinical-rules section 3. The data comes from a
// <script type="application/json" id="record-chart-data"> written by Django's json_script
// (the CSP forbids inline scripts); the page has the same numbers as tables.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("record-chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
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
        // No animation: a nurse reads it at once, and it prints as drawn.
        animation: false,
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
    // A time axis without a date adapter: days as milliseconds, written back as dates. The
    // axis spans the whole period, so the thresholds are lines even with a single result.
    const day = (iso) => Date.parse(`${iso}T00:00:00Z`);
    const first = day(data.period.first);
    const last = day(data.period.last);
    const points = (values) =>
      data.labs.labels
        .map((iso, i) => ({ x: day(iso), y: values[i] }))
        .filter((point) => point.y !== null);
    const threshold = (label, value, axis, colour, dash) => ({
      label,
      data: [
        { x: first, y: value },
        { x: last, y: value },
      ],
      yAxisID: axis,
      borderColor: colour,
      backgroundColor: colour,
      borderDash: dash,
      borderWidth: 1.5,
      pointRadius: 0,
    });
    const result = (label, values, axis, colour, pointStyle) => ({
      label,
      data: points(values),
      yAxisID: axis,
      borderColor: colour,
      backgroundColor: colour,
      pointRadius: 5,
      pointStyle,
    });
    new Chart(labsCanvas, {
      type: "line",
      data: {
        datasets: [
          result(data.text.b12, data.labs.b12, "b12", "#0b5394", "circle"),
          threshold(data.text.b12Deficient, data.thresholds.b12Deficient, "b12", "#b02a37", [2, 3]),
          threshold(data.text.b12Normal, data.thresholds.b12Normal, "b12", "#0b5394", [6, 6]),
          result(data.text.homocysteine, data.labs.homocysteine, "homocysteine", "#a4400f", "rectRot"),
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
        animation: false,
        interaction: { mode: "nearest", intersect: false },
        plugins: {
          legend,
          title: { display: true, text: data.text.labs },
          tooltip: {
            callbacks: { title: (items) => new Date(items[0].parsed.x).toISOString().slice(0, 10) },
          },
        },
        scales: {
          x: {
            type: "linear",
            min: first,
            max: last,
            ticks: {
              maxTicksLimit: 6,
              callback: (value) => new Date(value).toISOString().slice(0, 10),
            },
          },
          b12: {
            type: "linear",
            position: "left",
            beginAtZero: true,
            suggestedMax: 400,
            title: { display: true, text: data.text.b12 },
          },
          homocysteine: {
            type: "linear",
            position: "right",
            beginAtZero: true,
            suggestedMax: 15,
            grid: { drawOnChartArea: false },
            title: { display: true, text: data.text.homocysteine },
          },
        },
      },
    });
  }
});
