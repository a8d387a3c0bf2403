// The copy buttons of the indicators: the page shows each one defanged, the button puts the
// live (refanged) value on the clipboard. Static: the policy allows this exact text by hash.
(() => {
  "use strict";
  const words = document.body.dataset;
  const status = document.getElementById("copy-status");

  // Without the asynchronous Clipboard API (a page over plain HTTP from another host is not
  // a secure context) the old way still works: select a hidden text area and copy.
  const fallback = (value) => {
    const area = document.createElement("textarea");
    area.value = value;
    area.readOnly = true;
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    area.remove();
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  };

  const copy = (value) => {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(value).catch(() => fallback(value));
    }
    return fallback(value);
  };

  const show = (button, state) => {
    const said = state === "done" ? words.copied : words.failed;
    button.dataset.state = state;
    button.textContent = said;
    status.textContent = said;
    clearTimeout(Number(button.dataset.timer));
    button.dataset.timer = String(
      setTimeout(() => {
        button.textContent = words.copy;
        delete button.dataset.state;
      }, 1600),
    );
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy]");
    if (button) {
      copy(button.dataset.copy).then(
        () => show(button, "done"),
        () => show(button, "failed"),
      );
    }
  });
})();
