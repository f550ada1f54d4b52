// "Copy the link": a button with data-copy-target="<input id>" copies that input's value and
// says so in a polite live region, for screen readers too.
document.addEventListener("DOMContentLoaded", () => {
  const status = document.querySelector("[data-copy-status]");
  for (const button of document.querySelectorAll("[data-copy-target]")) {
    button.addEventListener("click", async () => {
      const input = document.getElementById(button.dataset.copyTarget);
      if (!input) return;
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
      } catch {
        // Without clipboard access (an old browser, plain http) the text stays selected for
        // the person to copy by hand.
        return;
      }
      if (status) status.textContent = button.dataset.copiedText || "Copied";
      button.classList.add("btn-success");
    });
  }
});
