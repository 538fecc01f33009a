// The meeting link: https://HOST/m/MEETING#t=TOKEN (signaling/PROTOCOL.md "The link and the join").
//
// The token sits in the fragment so that no server or proxy ever logs it. The page reads it once,
// keeps it in sessionStorage for this tab only (so a reload or "Rejoin" still works), and removes
// the fragment from the address bar so that nobody shows or shares it by accident.

const MEETING_RE = /^\/m\/([A-Za-z0-9_-]{22})$/;
const store = (key) => 'overleg.token.' + key;

/** Decodes base64url into bytes; null when it is not base64url. */
function b64urlBytes(text) {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  try {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * Reads what the token says about itself (signaling/token.h): version 1, role, expiry, meeting,
 * an optional bound name, then a 32-byte MAC. Only the server can check the MAC: these claims are
 * hints for the page (a name to show, the role, an early "expired"), never trusted for access.
 */
export function tokenClaims(token) {
  const b = b64urlBytes(token || '');
  if (!b || b.length < 27 + 32 || b[0] !== 1) return null;
  let expires = 0;
  for (let i = 2; i < 10; i++) expires = expires * 256 + b[i];
  const nameLen = b[26];
  if (b.length !== 27 + nameLen + 32) return null;
  let name = '';
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(27, 27 + nameLen));
  } catch {
    return null;
  }
  return { role: b[1] === 1 ? 'host' : b[1] === 2 ? 'guest' : 'unknown', expires, name };
}

/**
 * Parses `loc` (window.location). Returns {meeting, token, claims} or {meeting: null} on a page that
 * is not a meeting, or {meeting, token: null} for a meeting link without a token. Drops the
 * fragment from the address bar with history.replaceState.
 */
export function readLink(loc, history, session) {
  const m = loc.pathname.match(MEETING_RE);
  if (!m) return { meeting: null, token: null, claims: null };
  const meeting = m[1];
  const params = new URLSearchParams(loc.hash.slice(1));
  let token = params.get('t');
  if (token) {
    try {
      session.setItem(store(meeting), token);
    } catch {
      /* storage off: the token lives in memory only */
    }
  } else {
    try {
      token = session.getItem(store(meeting));
    } catch {
      token = null;
    }
  }
  if (loc.hash) history.replaceState(history.state, '', loc.pathname + loc.search);
  return { meeting, token, claims: token ? tokenClaims(token) : null };
}

/** Forgets this tab's copy of the token (after the meeting ended or the link was refused). */
export function forgetToken(meeting, session) {
  try {
    session.removeItem(store(meeting));
  } catch {
    /* nothing stored */
  }
}
