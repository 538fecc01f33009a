// Overleg placeholder client: checks a meeting link by joining over the WebSocket protocol
// (signaling/PROTOCOL.md) and shows who is there, with chat. Audio and video come later.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const match = location.pathname.match(/^\/m\/([A-Za-z0-9_-]{22})$/);
  const token = new URLSearchParams(location.hash.slice(1)).get('t');
  const status = (text, bad) => { $('status').textContent = text; $('status').className = bad ? 'error' : ''; };
  const line = (text) => { const li = document.createElement('li'); li.textContent = text; $('log').appendChild(li); };
  if (!match || !token) { status('Open a meeting link: https://host/m/MEETING#t=TOKEN.', !!match); return; }
  const people = new Map();
  const draw = () => {
    $('people').replaceChildren(...[...people.values()].map((p) => {
      const li = document.createElement('li'); li.textContent = p.name + ' (' + p.role + ')'; return li;
    }));
  };
  let ws = null;
  const send = (msg) => ws && ws.readyState === 1 && ws.send(JSON.stringify(msg));
  $('join').hidden = false;
  $('join').addEventListener('submit', (ev) => {
    ev.preventDefault();
    $('join').hidden = true;
    ws = new WebSocket('wss://' + location.host + '/ws');
    ws.onopen = () => send({ type: 'join', meeting: match[1], token: token, name: $('name').value });
    ws.onclose = (ev) => { $('chat').hidden = true; line('Disconnected (' + ev.code + ').'); };
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === 'welcome') {
        status('You are in "' + m.meeting.title + '" as ' + m.role + '. The video client is coming.');
        m.participants.forEach((p) => people.set(p.id, p));
        $('chat').hidden = false;
        draw();
      } else if (m.type === 'lobby-wait') {
        status('Waiting for a host to let you in...');
      } else if (m.type === 'participant-joined') {
        people.set(m.participant.id, m.participant); draw();
      } else if (m.type === 'participant-left') {
        people.delete(m.participant); draw();
      } else if (m.type === 'chat') {
        line(m.name + ': ' + m.text);
      } else if (m.type === 'end') {
        status('The meeting is over for you (' + m.reason + ').', true);
      } else if (m.type === 'error') {
        status(m.message, true);
      }
    };
  });
  $('chat').addEventListener('submit', (ev) => {
    ev.preventDefault();
    send({ type: 'chat', text: $('text').value });
    $('text').value = '';
  });
  setInterval(() => send({ type: 'ping' }), 25000);
})();
