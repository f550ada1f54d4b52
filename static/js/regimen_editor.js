// The regimen template editor, enhanced. Without this script the page still works: positions
// are typed, "Add a phase" and "Preview" are submit buttons answered by the server. With it:
// - "Move up"/"Move down" reorder the phase cards and renumber their positions;
// - "Add a phase" adds an empty phase on the page (from the <template>), without a reload;
// - every change asks the server for the preview (debounced), which validates the unsaved
//   form with the same code as saving and answers the same preview as `schedule_preview`.
(() => {
  const DEBOUNCE_MS = 400;

  function setUp(form) {
    const list = form.querySelector("[data-phase-list]");
    const template = form.querySelector("[data-phase-template]");
    const total = form.querySelector("input[name$='-TOTAL_FORMS']");
    const region = form.querySelector("[data-preview-region]");
    const addButton = form.querySelector("[data-add-phase]");
    // One short sentence for screen readers, not the whole list, each time the preview changes.
    const status = form.querySelector("[data-preview-status]");
    let timer = null;
    let latest = 0;
    let controller = null;

    const cards = () => Array.from(list.querySelectorAll(":scope > [data-phase-card]"));

    function renumber() {
      cards().forEach((card, index) => {
        for (const number of card.querySelectorAll("[data-phase-number]")) {
          number.textContent = String(index + 1);
        }
        const order = card.querySelector("[data-phase-order]");
        if (order) order.value = String(index + 1);
      });
    }

    function reveal(card) {
      for (const controls of card.querySelectorAll("[data-move-controls]")) {
        controls.hidden = false;
      }
    }

    function move(card, direction) {
      const sibling = direction === "up" ? card.previousElementSibling : card.nextElementSibling;
      if (!sibling) return;
      if (direction === "up") list.insertBefore(card, sibling);
      else list.insertBefore(sibling, card);
      renumber();
      card.querySelector(`[data-move="${direction}"]`).focus();
      schedule();
    }

    function addPhase() {
      const index = Number(total.value);
      const html = template.innerHTML
        .replaceAll("__prefix__", String(index))
        .replaceAll("__number__", String(cards().length + 1));
      list.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      const card = cards().at(-1);
      reveal(card);
      renumber();
      const first = card.querySelector("input:not([type=hidden]), select");
      if (first) first.focus();
    }

    async function refresh() {
      const ticket = ++latest;
      if (controller) controller.abort();
      controller = new AbortController();
      region.setAttribute("aria-busy", "true");
      try {
        const response = await fetch(form.dataset.previewUrl, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          signal: controller.signal,
        });
        if (!response.ok) throw new Error(`preview answered ${response.status}`);
        const answer = await response.json();
        if (ticket !== latest) return;
        region.innerHTML = answer.html;
        region.dataset.valid = String(answer.valid);
        if (status) status.textContent = answer.valid ? status.dataset.updated : status.dataset.invalid;
      } catch (error) {
        if (error.name === "AbortError") return;
        region.dataset.valid = "unknown";
      } finally {
        if (ticket === latest) region.removeAttribute("aria-busy");
      }
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, DEBOUNCE_MS);
    }

    cards().forEach(reveal);
    list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-move]");
      if (!button) return;
      move(button.closest("[data-phase-card]"), button.dataset.move);
    });
    addButton.addEventListener("click", (event) => {
      event.preventDefault();
      addPhase();
    });
    list.addEventListener("change", (event) => {
      if (!event.target.matches("[data-phase-delete]")) return;
      const card = event.target.closest("[data-phase-card]");
      card.classList.toggle("border-danger", event.target.checked);
      card.classList.toggle("bg-body-tertiary", event.target.checked);
    });
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form[data-regimen-editor]")) setUp(form);
  });
})();
