// The side panel: the people in the meeting (with host actions), the lobby (for hosts), and chat.

import { h, icon, $, initials, hue } from './dom.js';
import { openMenu } from './menu.js';

export class Side {
  /**
   * actions: {admit(pid), deny(pid), mute(pid, kind), remove(pid), sendChat(text)}; the caller
   * decides what they do.
   */
  constructor(actions) {
    this.actions = actions;
    this.tab = 'people';
    this.open = false;
    this.unread = 0;
    this.onToggle = null;
    $('tab-people').addEventListener('click', () => this.show('people'));
    $('tab-chat').addEventListener('click', () => this.show('chat'));
    $('side-close').addEventListener('click', () => this.hide());
    for (const t of [$('tab-people'), $('tab-chat')]) {
      t.addEventListener('keydown', (ev) => {
        if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
          ev.preventDefault();
          this.show(this.tab === 'people' ? 'chat' : 'people');
          $(this.tab === 'people' ? 'tab-people' : 'tab-chat').focus();
        }
      });
    }
    $('side').addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && $('menu').hidden) this.hide();
    });
    const input = $('chat-input');
    $('chat-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      if (this.actions.sendChat(text)) input.value = '';
      input.focus();
    });
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        $('chat-form').requestSubmit();
      }
    });
  }

  /** Opens the panel on 'people' or 'chat' (a second click on the same tab's button closes it). */
  toggle(tab) {
    if (this.open && this.tab === tab) this.hide();
    else this.show(tab);
  }

  show(tab) {
    this.tab = tab;
    this.open = true;
    $('side').hidden = false;
    const people = tab === 'people';
    $('tab-people').setAttribute('aria-selected', String(people));
    $('tab-chat').setAttribute('aria-selected', String(!people));
    $('tab-people').tabIndex = people ? 0 : -1;
    $('tab-chat').tabIndex = people ? -1 : 0;
    $('people-panel').hidden = !people;
    $('chat-panel').hidden = people;
    if (!people) {
      this.unread = 0;
      this.badge();
      const log = $('chat-log');
      log.scrollTop = log.scrollHeight;
      if (!matchMedia('(pointer: coarse)').matches) $('chat-input').focus();
    }
    if (this.onToggle) this.onToggle();
  }

  hide() {
    this.open = false;
    $('side').hidden = true;
    if (this.onToggle) this.onToggle();
  }

  badge() {
    const b = $('chat-badge');
    b.textContent = this.unread > 9 ? '9+' : String(this.unread);
    b.hidden = this.unread === 0;
    $('chat-btn').setAttribute('aria-label', this.unread ? `Chat, ${this.unread} unread` : 'Chat');
  }

  /** Draws the people list. `me` {id, role}; `people` in the order to show. */
  renderPeople(me, people) {
    const host = me.role === 'host';
    $('people-count').textContent = `(${people.length})`;
    $('people-list').replaceChildren(...people.map((p) => {
      const self = p.id === me.id;
      const states = h('span', { class: 'states' },
        p.audio_muted ? h('span', { class: 'state', title: 'Microphone off' }, icon('mic-off'), h('span', { class: 'sr-only' }, 'microphone off')) : null,
        p.video_muted ? h('span', { class: 'state', title: 'Camera off' }, icon('cam-off'), h('span', { class: 'sr-only' }, 'camera off')) : null);
      let more = null;
      if (host && !self) {
        more = h('button', { type: 'button', class: 'icon-btn', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
          'aria-label': `Actions for ${p.name}` }, icon('more'));
        more.addEventListener('click', () => openMenu(more, [
          { label: p.audio_muted ? 'Microphone is off' : 'Mute microphone', icon: 'mic-off', onSelect: () => !p.audio_muted && this.actions.mute(p.id, 'audio') },
          { label: p.video_muted ? 'Camera is off' : 'Turn camera off', icon: 'cam-off', onSelect: () => !p.video_muted && this.actions.mute(p.id, 'video') },
          { label: 'Remove from meeting', icon: 'user-x', danger: true, onSelect: () => this.actions.remove(p.id) },
        ], `Actions for ${p.name}`));
      }
      return h('li', { class: 'person', dataset: { pid: p.id } },
        h('span', { class: 'avatar small ' + hue(p.name) }, h('span', {}, initials(p.name))),
        h('span', { class: 'who' }, h('span', { class: 'pname' }, p.name + (self ? ' (you)' : '')),
          p.role === 'host' ? h('span', { class: 'role' }, 'Host') : null),
        states, more);
    }));
    $('host-tools').hidden = !host;
  }

  /** Draws the lobby list for hosts. */
  renderWaiting(me, waiting) {
    const host = me.role === 'host';
    $('waiting-section').hidden = !host || waiting.length === 0;
    $('waiting-count').textContent = `(${waiting.length})`;
    $('waiting-list').replaceChildren(...waiting.map((p) => h('li', { class: 'person waiting', dataset: { pid: p.id } },
      h('span', { class: 'avatar small ' + hue(p.name) }, h('span', {}, initials(p.name))),
      h('span', { class: 'who' }, h('span', { class: 'pname' }, p.name)),
      h('button', { type: 'button', class: 'small secondary', 'aria-label': `Deny ${p.name}`, onclick: () => this.actions.deny(p.id) }, 'Deny'),
      h('button', { type: 'button', class: 'small primary', 'aria-label': `Admit ${p.name}`, onclick: () => this.actions.admit(p.id) }, 'Admit'))));
  }

  /** Adds a chat message {from, name, text}; `mine` when this page sent it. */
  addChat(msg, mine) {
    const time = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const log = $('chat-log');
    const last = log.lastElementChild;
    const grouped = last && last.dataset.from === msg.from;
    const li = h('li', { class: 'msg' + (mine ? ' mine' : '') + (grouped ? ' grouped' : ''), dataset: { from: msg.from } },
      grouped ? null : h('div', { class: 'msg-head' }, h('span', { class: 'msg-name' }, mine ? 'You' : msg.name), h('span', { class: 'msg-time' }, time)),
      h('div', { class: 'msg-text' }, msg.text));
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(li);
    $('chat-empty').hidden = true;
    if (atBottom || mine) log.scrollTop = log.scrollHeight;
    if (!mine && !(this.open && this.tab === 'chat')) {
      this.unread++;
      this.badge();
      return true; // unseen
    }
    return false;
  }

  clearChat() {
    $('chat-log').replaceChildren();
    $('chat-empty').hidden = false;
    this.unread = 0;
    this.badge();
  }
}
