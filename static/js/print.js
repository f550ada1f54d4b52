// A "Print" button: any element with data-print opens the browser's print dialog.
// A static file, because the Content-Security-Policy forbids inline scripts.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
