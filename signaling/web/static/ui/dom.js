// Small DOM helpers. Nothing here writes a style attribute or HTML text: the page runs under a
// Content-Security-Policy without 'unsafe-inline' (signaling/http.c), and every text is set as text.

const SVG = 'http://www.w3.org/2000/svg';

/**
 * h('button', {class: 'x', onclick: fn, 'aria-label': 'Mute'}, child, 'text', ...): an element.
 * Props: class, dataset, on<event> listeners, DOM properties given as non-strings (hidden: true),
 * anything else as an attribute. Children: nodes, strings, arrays; null/false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (typeof v !== 'string' && k in el) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return el;
}

/** An icon from the sprite in index.html (<symbol id="i-NAME">); hidden from screen readers. */
export function icon(name, cls = 'icon') {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(SVG, 'use');
  use.setAttribute('href', '#i-' + name);
  svg.append(use);
  return svg;
}

/** Points an icon made by icon() at another symbol. */
export function setIcon(svg, name) {
  const use = svg && svg.querySelector('use');
  if (use) use.setAttribute('href', '#i-' + name);
}

export const $ = (id) => document.getElementById(id);

/** Says `text` to screen-reader users (the polite live region in index.html). */
export function announce(text) {
  const el = $('announcer');
  if (!el) return;
  el.textContent = '';
  // A fresh text node after a tick is announced even when the text repeats.
  setTimeout(() => {
    el.textContent = text;
  }, 50);
}

/** Initials for an avatar: "Jan de Vries" -> "JV". */
export function initials(name) {
  const words = String(name || '?').trim().split(/\s+/).filter((w) => /\p{L}|\p{N}/u.test(w[0] || ''));
  if (!words.length) return '?';
  const first = [...words[0]][0];
  const last = words.length > 1 ? [...words[words.length - 1]][0] : '';
  return (first + last).toUpperCase();
}

/** A calm colour for someone's avatar, stable for a name (one of the palette classes in style.css). */
export function hue(name) {
  let x = 0;
  for (const c of String(name)) x = (x * 31 + c.codePointAt(0)) >>> 0;
  return 'hue-' + (x % 8);
}
