// Full-page screens: joining, the name prompt, the lobby, and every failure. One card in the
// middle of the page: what happened, what to do, and at most two buttons. Focus moves to the
// card's heading so that screen readers read the new state at once.

import { h, icon, setIcon, $ } from './dom.js';
import { deviceProblem } from '../strings.js';

let cleanup = null;

function show(card) {
  if (cleanup) cleanup();
  cleanup = null;
  const root = $('screen');
  $('call').hidden = true;
  root.replaceChildren(card);
  root.hidden = false;
  const head = card.querySelector('h1');
  if (head) {
    head.tabIndex = -1;
    head.focus({ preventScroll: true });
  }
}

/** Hides the screen (the call view takes over). */
export function hideScreen() {
  if (cleanup) cleanup();
  cleanup = null;
  $('screen').hidden = true;
  $('screen').replaceChildren();
}

function brand() {
  return h('div', { class: 'brandline' }, icon('shield', 'icon brand'), h('span', {}, 'Overleg'), h('span', { class: 'muted' }, ' · secure meeting'));
}

/**
 * A card: {icon, title, body, tips: [text], actions: [{label, primary, danger, onClick}], extra: Node,
 * busy: bool, tone: 'neutral'|'bad'}.
 */
export function showCard(spec) {
  const acts = (spec.actions || []).map((a) =>
    h('button', { type: 'button', class: a.primary ? 'primary' : 'secondary', onclick: a.onClick }, a.label));
  const card = h('div', { class: 'card ' + (spec.tone || 'neutral'), role: 'region', 'aria-labelledby': 'screen-title' },
    brand(),
    spec.busy ? h('div', { class: 'spinner', 'aria-hidden': 'true' }) : spec.icon ? h('div', { class: 'card-icon' }, icon(spec.icon)) : null,
    h('h1', { id: 'screen-title' }, spec.title),
    spec.body ? h('p', { class: 'lead' }, spec.body) : null,
    spec.extra || null,
    spec.tips && spec.tips.length ? h('div', { class: 'tips' }, h('h2', {}, 'What you can do'), h('ul', {}, spec.tips.map((t) => h('li', {}, t)))) : null,
    acts.length ? h('div', { class: 'actions' }, acts) : null);
  card.dataset.screen = spec.id || '';
  show(card);
  return card;
}

/**
 * The self-view with microphone and camera switches, for the name prompt and the lobby.
 * `media` is the LocalMedia; `onMic(muted)`, `onCam(off)` change it.
 */
function preview(media, { onMic, onCam }) {
  const video = h('video', { class: 'preview mirror', autoplay: true, playsInline: true, muted: true });
  const placeholder = h('div', { class: 'preview-off' }, icon('cam-off'), h('span', {}, 'Camera is off'));
  const micBtn = h('button', { type: 'button', class: 'round', onclick: () => onMic(!media.micMuted) }, icon('mic'));
  const camBtn = h('button', { type: 'button', class: 'round', onclick: () => onCam(!media.camOff) }, icon('cam'));
  const note = h('p', { class: 'device-note', role: 'status' });
  const update = () => {
    const cam = media.videoOn ? media.cam : null;
    if (cam) {
      if (!video.srcObject || video.srcObject.getVideoTracks()[0] !== cam) video.srcObject = new MediaStream([cam]);
    } else video.srcObject = null;
    video.hidden = !cam;
    placeholder.hidden = !!cam;
    const micOn = media.audioOn;
    micBtn.setAttribute('aria-label', !media.mic ? 'No microphone' : micOn ? 'Mute microphone' : 'Unmute microphone');
    micBtn.setAttribute('aria-pressed', String(!micOn));
    micBtn.disabled = !media.mic;
    micBtn.classList.toggle('off', !micOn);
    setIcon(micBtn.querySelector('svg'), micOn ? 'mic' : 'mic-off');
    camBtn.setAttribute('aria-label', !media.cam && !media.camOff ? 'No camera' : media.videoOn ? 'Turn camera off' : 'Turn camera on');
    camBtn.setAttribute('aria-pressed', String(!media.videoOn));
    camBtn.disabled = !media.cam && !media.camOff;
    camBtn.classList.toggle('off', !media.videoOn);
    setIcon(camBtn.querySelector('svg'), media.videoOn ? 'cam' : 'cam-off');
    const notes = [];
    const pa = media.problems.audio;
    const pv = media.problems.video;
    if (pa && pa === pv) notes.push(deviceProblem[pa]('camera and microphone'));
    else {
      if (pa) notes.push(deviceProblem[pa]('microphone'));
      if (pv) notes.push(deviceProblem[pv]('camera'));
    }
    note.textContent = notes.join(' ');
    note.hidden = !notes.length;
  };
  media.addEventListener('change', update);
  update();
  const el = h('div', { class: 'preview-box' }, h('div', { class: 'preview-frame' }, video, placeholder), h('div', { class: 'preview-ctl' }, micBtn, camBtn), note);
  return { el, stop: () => media.removeEventListener('change', update) };
}

/**
 * The one-field name prompt. `onSubmit(name)` is called with the trimmed name. Returns
 * {setError(text)}.
 */
export function namePrompt({ title, initial, media, onMic, onCam, onSubmit }) {
  const pv = preview(media, { onMic, onCam });
  const input = h('input', { id: 'name-input', name: 'name', maxlength: '64', autocomplete: 'name', required: true, value: initial || '',
    'aria-describedby': 'name-error' });
  const error = h('p', { id: 'name-error', class: 'problem', role: 'alert', hidden: true });
  const form = h('form', { class: 'name-form', novalidate: true },
    h('label', { for: 'name-input' }, 'Your name'),
    h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'primary' }, 'Join meeting')),
    error);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = input.value.trim();
    if (!name) {
      error.textContent = 'Type the name the others will see.';
      error.hidden = false;
      input.focus();
      return;
    }
    onSubmit(name);
  });
  showCard({ id: 'name', title: title || 'Join the meeting', body: 'The others will see this name. Check your camera and microphone before you go in.',
    extra: h('div', { class: 'join-box' }, pv.el, form) });
  cleanup = pv.stop;
  input.focus();
  return {
    setError(text) {
      error.textContent = text;
      error.hidden = !text;
    },
  };
}

/** The lobby: a guest waits until a host lets them in. */
export function lobbyScreen({ title, name, media, onMic, onCam, onLeave }) {
  const pv = preview(media, { onMic, onCam });
  const into = title ? `“${title}”` : 'the meeting';
  showCard({
    id: 'lobby',
    busy: true,
    title: 'Waiting to be let in',
    body: `A host of ${into} has been told that ${name} is waiting, and will let you in.`,
    extra: h('div', { class: 'join-box single' }, pv.el, h('p', { class: 'hint' }, 'You can leave this page open. Nobody can see or hear you until you are let in.')),
    actions: [{ label: 'Leave', onClick: onLeave }],
  });
  cleanup = pv.stop;
}
