(() => {
  "use strict";
  const rows = Array.from(document.querySelectorAll("#findings tbody tr"));
  const texts = rows.map((row) => row.textContent.toLowerCase());
  const keys = ["severity", "status", "rule", "account"];
  const selects = Object.fromEntries(keys.map((key) => [key, document.getElementById("f-" + key)]));
  const search = document.getElementById("f-text");
  const shown = document.getElementById("shown-count");

  const apply = () => {
    const query = search.value.trim().toLowerCase();
    let visible = 0;
    rows.forEach((row, i) => {
      const match = keys.every((key) => !selects[key].value || row.dataset[key] === selects[key].value)
        && (!query || texts[i].includes(query));
      row.hidden = !match;
      if (match) visible += 1;
    });
    shown.textContent = String(visible);
  };

  keys.forEach((key) => selects[key].addEventListener("change", apply));
  search.addEventListener("input", apply);
  document.getElementById("f-reset").addEventListener("click", () => {
    keys.forEach((key) => { selects[key].value = ""; });
    search.value = "";
    apply();
  });
  document.querySelectorAll("button[data-set-filter]").forEach((button) => {
    button.addEventListener("click", () => {
      const select = selects[button.dataset.setFilter];
      select.value = button.dataset.value;
      apply();
      document.getElementById("findings-section").scrollIntoView();
    });
  });

  let closed = [];
  window.addEventListener("beforeprint", () => {
    closed = Array.from(document.querySelectorAll("#findings details:not([open])"));
    closed.forEach((details) => { details.open = true; });
  });
  window.addEventListener("afterprint", () => {
    closed.forEach((details) => { details.open = false; });
    closed = [];
  });
  apply();
})();
