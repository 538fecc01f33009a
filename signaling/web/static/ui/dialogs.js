// Dialogs (native <dialog>, which traps focus and closes on Escape): device settings, connection
// details, and "are you sure".

import { h, $ } from './dom.js';
import { deviceProblem } from '../strings.js';
import { fmt } from '../stats.js';

/** Asks a yes/no question; resolves true when the person confirms. */
export function confirmDialog({ title, text, ok }) {
  const d = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = ok;
  d.returnValue = '';
  d.showModal();
  return new Promise((resolve) => d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true }));
}

function fill(select, devices, current, none) {
  select.replaceChildren(...(devices.length ? devices.map((d) => h('option', { value: d.deviceId }, d.label)) : [h('option', { value: '' }, none)]));
  if (current && devices.some((d) => d.deviceId === current)) select.value = current;
  select.disabled = devices.length === 0;
}

/**
 * The device dialog: microphone, camera and speaker, with a live preview and a level meter.
 * `media` LocalMedia; `levels` Levels (for the meter); `onSpeaker(deviceId)`; `onRetry()`.
 */
export function initSettings({ media, levels, onDevice, onSpeaker, onRetry }) {
  const d = $('settings');
  let meterTimer = 0;
  const refresh = async () => {
    const list = await media.listDevices();
    const cur = media.current();
    fill($('mic-select'), list.audioinput, cur.audioinput, 'No microphone found');
    fill($('cam-select'), list.videoinput, cur.videoinput, 'No camera found');
    const canSink = 'setSinkId' in HTMLMediaElement.prototype;
    $('speaker-select').hidden = $('speaker-label').hidden = !canSink;
    fill($('speaker-select'), list.audiooutput, cur.audiooutput, 'Default speaker');
    const cam = media.videoOn ? media.cam : null;
    $('settings-preview').srcObject = cam ? new MediaStream([cam]) : null;
    $('settings-preview').hidden = !cam;
    const probs = [];
    if (media.problems.audio) probs.push(deviceProblem[media.problems.audio]('microphone'));
    if (media.problems.video) probs.push(deviceProblem[media.problems.video]('camera'));
    $('device-problem').textContent = probs.join(' ');
    $('device-problem').hidden = $('device-retry').hidden = !probs.length;
  };
  $('mic-select').addEventListener('change', (ev) => onDevice('audio', ev.target.value));
  $('cam-select').addEventListener('change', (ev) => onDevice('video', ev.target.value));
  $('speaker-select').addEventListener('change', (ev) => onSpeaker(ev.target.value));
  $('device-retry').addEventListener('click', () => onRetry());
  media.addEventListener('change', () => {
    if (d.open) refresh();
  });
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener('devicechange', () => {
      if (d.open) refresh();
    });
  }
  d.addEventListener('close', () => {
    clearInterval(meterTimer);
    $('settings-preview').srcObject = null;
  });
  return {
    open() {
      refresh();
      d.showModal();
      meterTimer = setInterval(() => {
        const v = levels.micLevel();
        $('mic-meter').style.setProperty('--level', String(Math.min(1, v * 4)));
      }, 100);
    },
  };
}

/** Fills the connection dialog from a stats summary (stats.js summarize) and who is who. */
export function renderConnection(summary, names, mediaState, reduced = []) {
  const rows = [];
  const add = (k, v) => rows.push(h('dt', {}, k), h('dd', {}, v));
  if (mediaState === 'unavailable') {
    add('Status', 'Audio and video are not available on this server (it has no media relay). Chat and the participant list work.');
  } else if (!summary) {
    add('Status', 'Not connected yet');
  } else {
    const s = summary.self;
    add('Path', s.path ? `${s.path.label} — ${s.path.detail}` : 'Not connected yet');
    if (reduced.length) add('Mode', `Reduced: ${reduced.join(', ')}. Audio goes first; video may be thinner or paused.`);
    if (s.availableOutBps != null) add('Can send', fmt.bps(s.availableOutBps));
    add('Round trip', fmt.ms(s.rtt));
    add('Loss (what you send)', fmt.pct(s.loss));
    add('Sending', fmt.bps(s.sendBps));
    add('Receiving', fmt.bps(s.recvBps));
    for (const [pid, p] of summary.peers) {
      add(`From ${names.get(pid) || pid}`, `${fmt.bps(p.recvBps)}, loss ${fmt.pct(p.loss)}`);
    }
  }
  $('conn-list').replaceChildren(...rows);
}
