// DOM building without innerHTML: every piece of user data becomes a text node or an attribute
// value, so a filename such as `<img src=x onerror=alert(1)>.jpg` can only ever be shown as text.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`Missing element ${selector}`);
  return el;
}

let toastRoot = null;

export function toast(message, { kind = "info", timeout = 4000 } = {}) {
  toastRoot ??= document.getElementById("toasts");
  const el = h("div", { class: `toast toast-${kind}`, text: message });
  toastRoot.append(el);
  setTimeout(() => el.remove(), timeout);
}
