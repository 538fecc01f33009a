// The WebSocket to the server (signaling/PROTOCOL.md): one JSON object per text frame.
//
// Events: 'message' (detail: the parsed object), 'close' (detail: {code, reason, opened}).
// A ping every 15 s keeps NATs and proxies open; if nothing at all comes back for 40 s the
// connection is treated as dead and closed (laptop sleep, a network change the socket did not see).

const PING_MS = 15000;
const DEAD_MS = 40000;

export class Signal extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.opened = false;
    this.closed = false;
    this.lastHeard = 0;
    this.timer = 0;
  }

  /** Opens the socket; resolves when open, rejects (Error 'unreachable') when it cannot within timeoutMs. */
  open(timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch {
        reject(new Error('unreachable'));
        return;
      }
      this.ws = ws;
      const giveUp = setTimeout(() => {
        if (!this.opened) {
          this.closeNow(4001, 'open timeout');
          reject(new Error('unreachable'));
        }
      }, timeoutMs);
      ws.onopen = () => {
        clearTimeout(giveUp);
        this.opened = true;
        this.lastHeard = Date.now();
        this.timer = setInterval(() => this.keepAlive(), PING_MS);
        resolve();
      };
      ws.onmessage = (ev) => {
        this.lastHeard = Date.now();
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          return;
        }
        if (msg && typeof msg.type === 'string') this.dispatchEvent(new CustomEvent('message', { detail: msg }));
      };
      ws.onclose = (ev) => {
        clearTimeout(giveUp);
        if (!this.opened) reject(new Error('unreachable'));
        this.finish(ev.code, ev.reason);
      };
    });
  }

  keepAlive() {
    if (Date.now() - this.lastHeard > DEAD_MS) {
      this.closeNow(4000, 'no answer from the server');
      return;
    }
    this.send({ type: 'ping' });
  }

  /** Sends one message; false when the socket is not open. */
  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Closes without waiting for the server; emits 'close' once. */
  closeNow(code = 1000, reason = '') {
    if (this.ws) {
      this.ws.onclose = null;
      try {
        this.ws.close(code >= 4000 || code === 1000 ? code : 1000, reason);
      } catch {
        /* already closing */
      }
    }
    this.finish(code, reason);
  }

  finish(code, reason) {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.dispatchEvent(new CustomEvent('close', { detail: { code, reason, opened: this.opened } }));
  }
}
