// The call bar and the top bar: buttons reflect the state they control (aria-pressed, labels that
// say what a click will do), keyboard shortcuts M (microphone) and V (camera), the meeting clock
// and this device's connection indicator.

import { $, setIcon } from './dom.js';

function set(btn, { label, iconName, pressed, disabled, off }) {
  btn.querySelector('.label').textContent = label;
  btn.setAttribute('aria-label', label);
  const key = btn.getAttribute('aria-keyshortcuts');
  btn.title = key ? `${label} (${key})` : label;
  if (iconName) setIcon(btn.querySelector('svg'), iconName);
  if (pressed != null) btn.setAttribute('aria-pressed', String(pressed));
  btn.disabled = !!disabled;
  btn.classList.toggle('off', !!off);
}

/** handlers: {mic, cam, share, audioOnly, people, chat, settings, leave, quality} (no arguments). */
export function initControls(handlers) {
  const bind = (id, fn) => $(id).addEventListener('click', (ev) => fn(ev.currentTarget));
  bind('mic-btn', handlers.mic);
  bind('cam-btn', handlers.cam);
  bind('share-btn', handlers.share);
  bind('audio-only-btn', handlers.audioOnly);
  bind('people-btn', handlers.people);
  bind('chat-btn', handlers.chat);
  bind('settings-btn', handlers.settings);
  bind('leave-btn', handlers.leave);
  bind('quality', handlers.quality);
  document.addEventListener('keydown', (ev) => {
    if ($('call').hidden || ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
    const t = ev.target;
    if (t && (t.closest('input, textarea, select, [contenteditable], dialog[open]') || document.querySelector('dialog[open]'))) return;
    const k = ev.key.toLowerCase();
    if (k === 'm') {
      ev.preventDefault();
      handlers.mic($('mic-btn'));
    } else if (k === 'v') {
      ev.preventDefault();
      handlers.cam($('cam-btn'));
    }
  });
}

/** Draws the buttons from the local media state and the side panel. */
export function renderControls({ media, audioOnly, sideOpen, sideTab, peopleCount, waitingCount, isHost }) {
  const micOn = media.audioOn;
  set($('mic-btn'), media.mic
    ? { label: micOn ? 'Mute' : 'Unmute', iconName: micOn ? 'mic' : 'mic-off', pressed: !micOn, off: !micOn }
    : { label: 'No microphone', iconName: 'mic-off', pressed: true, off: true });
  const camOn = media.videoOn;
  set($('audio-only-btn'), { label: audioOnly ? 'Turn video on' : 'Audio only', iconName: audioOnly ? 'cam' : 'speaker', pressed: !!audioOnly });
  $('audio-only-btn').classList.toggle('on', !!audioOnly);
  set($('cam-btn'), audioOnly
    ? { label: 'Video off (audio only)', iconName: 'cam-off', pressed: true, off: true, disabled: true }
    : media.cam || media.camOff
    ? { label: camOn ? 'Stop video' : 'Start video', iconName: camOn ? 'cam' : 'cam-off', pressed: !camOn, off: !camOn }
    : { label: 'No camera', iconName: 'cam-off', pressed: true, off: true });
  const sharing = !!media.screen;
  const canShare = !!(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  set($('share-btn'), { label: sharing ? 'Stop sharing' : 'Share screen', pressed: sharing, disabled: !canShare });
  $('share-btn').classList.toggle('on', sharing);
  $('share-btn').hidden = !canShare;
  $('people-btn').setAttribute('aria-expanded', String(sideOpen && sideTab === 'people'));
  $('chat-btn').setAttribute('aria-expanded', String(sideOpen && sideTab === 'chat'));
  const badge = $('people-badge');
  badge.textContent = isHost && waitingCount ? String(waitingCount) : String(peopleCount);
  badge.classList.toggle('alert', !!(isHost && waitingCount));
  badge.hidden = false;
  $('people-btn').setAttribute('aria-label', isHost && waitingCount
    ? `People, ${peopleCount} in the meeting, ${waitingCount} waiting` : `People, ${peopleCount} in the meeting`);
  $('people-btn').title = 'People';
  $('leave-btn').setAttribute('aria-label', 'Leave meeting');
  $('leave-btn').title = 'Leave meeting';
}

/** The connection indicator in the top bar. */
export function renderQuality(grade, pathLabel, text) {
  $('quality').querySelector('.bars').dataset.grade = grade;
  $('path-label').textContent = pathLabel;
  $('quality').setAttribute('aria-label', `Your connection: ${text}. Show details`);
  $('quality').title = `Connection: ${text}`;
}

/** The reduced-mode indicator in the top bar: `reasons` are words ("media over TCP"); [] hides it. */
export function renderReduced(reasons) {
  const el = $('reduced');
  const text = reasons.length ? `Reduced mode: ${reasons.join(', ')}` : '';
  el.hidden = !reasons.length;
  el.dataset.reasons = reasons.join('|');
  el.title = text;
  el.setAttribute('aria-label', text);
}

export function renderClock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  $('clock').textContent = hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
