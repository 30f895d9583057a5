// Building the page from values. Every value becomes a text node or an attribute, never
// markup: nothing a message, a carrier or a config holds can turn into HTML or script.

/**
 * An element with attributes and children. `on<event>` attributes that are functions become
 * listeners; `true` is an empty attribute; null/undefined/false are left out. Children are
 * nodes or values shown as text; arrays are flattened.
 * @param {string} tag
 * @param {Record<string, unknown> | null} [attrs]
 * @param {...unknown} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (name === 'href' && !/^[#/]/.test(String(value))) {
      // Links go within the console only: never a `javascript:` or foreign URL from data.
      throw new Error(`refusing link ${String(value)}`);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A labelled form control. */
export function field(label, control) {
  return h('label', { class: 'field' }, h('span', null, label), control);
}

/** An ISO time as the reader's local date and time, or a dash. */
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** A status as a coloured badge (the class comes only from known word characters). */
export function badge(status) {
  const word = String(status ?? '');
  return h('span', { class: /^[a-z_]+$/.test(word) ? `badge badge-${word}` : 'badge' }, word || '—');
}

/** Runs `fn` now and every `ms` while the page is visible; returns the stop function. */
export function every(ms, fn) {
  let busy = false;
  const tick = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      await fn();
    } finally {
      busy = false;
    }
  };
  tick();
  const timer = setInterval(tick, ms);
  return () => clearInterval(timer);
}
