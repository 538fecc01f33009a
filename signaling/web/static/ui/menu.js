// A small pop-up menu (role=menu) under a button: arrow keys move, Enter chooses, Escape closes and
// gives focus back to the button.

import { h, icon, $ } from './dom.js';

let openFor = null;

function close(refocus) {
  const menu = $('menu');
  if (menu.hidden) return;
  menu.hidden = true;
  menu.replaceChildren();
  if (openFor) {
    openFor.setAttribute('aria-expanded', 'false');
    if (refocus) openFor.focus();
  }
  openFor = null;
}

/** Opens a menu under `button` with items [{label, icon, danger, onSelect}]. */
export function openMenu(button, items, label) {
  const menu = $('menu');
  if (openFor === button) {
    close(true);
    return;
  }
  close(false);
  openFor = button;
  button.setAttribute('aria-expanded', 'true');
  menu.setAttribute('aria-label', label);
  const buttons = items.map((it) => h('button', { type: 'button', role: 'menuitem', class: it.danger ? 'danger' : '', tabindex: '-1',
    onclick: () => {
      close(true);
      it.onSelect();
    } }, it.icon ? icon(it.icon) : null, h('span', {}, it.label)));
  menu.replaceChildren(...buttons);
  menu.hidden = false;
  const r = button.getBoundingClientRect();
  const mw = menu.offsetWidth;
  const mh = menu.offsetHeight;
  const left = Math.max(8, Math.min(window.innerWidth - mw - 8, r.right - mw));
  const top = r.bottom + 4 + mh < window.innerHeight ? r.bottom + 4 : Math.max(8, r.top - mh - 4);
  menu.style.setProperty('--x', left + 'px');
  menu.style.setProperty('--y', top + 'px');
  buttons[0].focus();
}

export function initMenu() {
  const menu = $('menu');
  menu.addEventListener('keydown', (ev) => {
    const items = [...menu.querySelectorAll('[role=menuitem]')];
    const i = items.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const next = (i + (ev.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
      items[next].focus();
    } else if (ev.key === 'Escape' || ev.key === 'Tab') {
      ev.preventDefault();
      close(true);
    } else if (ev.key === 'Home' || ev.key === 'End') {
      ev.preventDefault();
      items[ev.key === 'Home' ? 0 : items.length - 1].focus();
    }
  });
  document.addEventListener('pointerdown', (ev) => {
    if (!menu.hidden && !menu.contains(ev.target) && ev.target !== openFor && !(openFor && openFor.contains(ev.target))) close(false);
  });
  window.addEventListener('resize', () => close(false));
}
