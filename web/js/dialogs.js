// Confirmation and text prompts as real <dialog> elements (not window.confirm/prompt): they match
// the app, stay accessible, and tests can drive them like any other part of the page.

import { $ } from "./dom.js";

export function confirmDialog({ title, body, confirmLabel = "Delete" }) {
  const dialog = $("#confirm-dialog");
  $(".modal-title", dialog).textContent = title;
  $(".modal-body", dialog).textContent = body;
  $("[data-role=confirm]", dialog).textContent = confirmLabel;
  dialog.returnValue = "";
  dialog.showModal();
  $("[data-role=confirm]", dialog).focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

/**
 * Ask for a line of text and run `submit(value)` with it; the dialog stays open showing the error
 * when `submit` throws, and resolves with `submit`'s result once it succeeds (null when cancelled).
 */
export function promptDialog({ title, label, value = "", confirmLabel = "Save", submit }) {
  const dialog = $("#prompt-dialog");
  const form = $("form", dialog);
  const input = $("input", dialog);
  const error = $(".modal-error", dialog);
  const confirmButton = $("[data-role=confirm]", dialog);
  $(".modal-title", dialog).textContent = title;
  $(".modal-label", dialog).textContent = label;
  confirmButton.textContent = confirmLabel;
  input.value = value;
  error.hidden = true;
  dialog.returnValue = "";
  dialog.showModal();
  input.select();

  return new Promise((resolve) => {
    let result = null;
    const onSubmit = async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) {
        error.textContent = "Please enter a name.";
        error.hidden = false;
        return;
      }
      confirmButton.disabled = true;
      try {
        result = await submit(text);
        dialog.close("confirm");
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
      } finally {
        confirmButton.disabled = false;
      }
    };
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener(
      "close",
      () => {
        form.removeEventListener("submit", onSubmit);
        resolve(dialog.returnValue === "confirm" ? result : null);
      },
      { once: true },
    );
  });
}

document.addEventListener("click", (event) => {
  const closer = event.target.closest("[data-close]");
  if (closer) closer.closest("dialog")?.close("cancel");
});

/** True while one of the small modal dialogs sits on top (the viewer then ignores its keys). */
export function modalOnTop() {
  return document.querySelector(".modal[open]") !== null;
}
