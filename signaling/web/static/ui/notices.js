// Banners (a lasting state: reconnecting, media unavailable, someone waiting in the lobby) and
// toasts (a passing event: "Ann muted your microphone"). Banners stay until their cause is gone.

import { h, icon, $, announce } from './dom.js';

const banners = new Map(); // id -> element

/**
 * Shows or replaces banner `id`: {tone: 'info'|'warn'|'bad', icon, text, detail: [lines],
 * actions: [{label, onClick, primary}], busy}. Announced to screen readers when new or changed.
 */
export function banner(id, spec) {
  const old = banners.get(id);
  const acts = (spec.actions || []).map((a) => h('button', { type: 'button', class: 'small ' + (a.primary ? 'primary' : 'secondary'), onclick: a.onClick }, a.label));
  const el = h('div', { class: 'banner ' + (spec.tone || 'info'), dataset: { banner: id } },
    spec.busy ? h('span', { class: 'spinner small', 'aria-hidden': 'true' }) : icon(spec.icon || 'alert'),
    h('div', { class: 'banner-text' }, h('p', {}, spec.text),
      spec.detail && spec.detail.length ? h('ul', {}, spec.detail.map((d) => h('li', {}, d))) : null),
    acts.length ? h('div', { class: 'banner-actions' }, acts) : null);
  if (old) old.replaceWith(el);
  else $('banners').append(el);
  banners.set(id, el);
  if (!old || old.textContent !== el.textContent) announce(spec.text);
}

export function clearBanner(id) {
  const el = banners.get(id);
  if (el) el.remove();
  banners.delete(id);
}

export function hasBanner(id) {
  return banners.has(id);
}

export function clearBanners() {
  for (const id of [...banners.keys()]) clearBanner(id);
}

/** A short message at the bottom of the screen for a few seconds (also read by screen readers). */
export function toast(text, { tone = 'info', ms = 4500, action } = {}) {
  const el = h('div', { class: 'toast ' + tone }, h('span', {}, text),
    action ? h('button', { type: 'button', class: 'small secondary', onclick: () => {
      el.remove();
      action.onClick();
    } }, action.label) : null);
  $('toasts').append(el);
  while ($('toasts').children.length > 3) $('toasts').firstElementChild.remove();
  setTimeout(() => el.remove(), ms);
}
