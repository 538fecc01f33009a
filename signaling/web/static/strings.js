// Every sentence a person reads about a failure, in one place (so it can be translated and kept
// consistent). A screen is {icon, title, body, tips, actions}; actions name what the buttons do
// (see app.js): 'retry' (try the same join again), 'rejoin', 'prompt' (back to the name field).

const CONTACT = 'If it keeps happening, send the organiser the time and what you see here.';

export const screens = {
  'no-link': {
    icon: 'link',
    title: 'Open your meeting link',
    body: 'This page is a video meeting. Open the link you were sent: it looks like https://…/m/…#t=… .',
    tips: ['Use the whole link, including everything after the # sign.'],
    actions: [],
  },
  'token-missing': {
    icon: 'link',
    title: 'This link is incomplete',
    body: 'The meeting link is missing its key (the part after #t=).',
    tips: ['Open the link from the original message again, or copy the whole link.'],
    actions: [],
  },
  'token-invalid': {
    icon: 'link',
    title: 'This meeting link is not valid',
    body: 'The link may be incomplete or changed.',
    tips: ['Open the link from the original message again, or copy the whole link.', 'Ask the organiser for a new link.'],
    actions: [],
  },
  'meeting-not-found': {
    icon: 'link',
    title: 'This meeting does not exist',
    body: 'No meeting on this server matches the link.',
    tips: ['Check that you opened the most recent invitation.', 'Ask the organiser for a new link.'],
    actions: [],
  },
  'token-expired': {
    icon: 'clock',
    title: 'This meeting link has expired',
    body: 'Links stop working after their end date, so that old invitations cannot be used.',
    tips: ['Ask the organiser for a new link.'],
    actions: [],
  },
  'meeting-expired': {
    icon: 'clock',
    title: 'This meeting has expired',
    body: 'The meeting has passed its end date.',
    tips: ['Ask the organiser for a new link.'],
    actions: [],
  },
  'meeting-revoked': {
    icon: 'shield',
    title: 'This meeting has been cancelled',
    body: 'The organiser withdrew this meeting, so its links no longer work.',
    tips: ['If you expected to meet, contact the organiser.'],
    actions: [],
  },
  'meeting-full': {
    icon: 'people',
    title: 'The meeting is full',
    body: 'The meeting has reached its maximum number of participants.',
    tips: ['Try again in a few minutes, or ask the host to make room.'],
    actions: ['retry'],
  },
  'meeting-locked': {
    icon: 'lock',
    title: 'The meeting is locked',
    body: 'A host has locked this meeting, so nobody new can join.',
    tips: ['Ask a host to unlock the meeting, then try again.'],
    actions: ['retry'],
  },
  'meeting-ended': {
    icon: 'leave',
    title: 'This meeting has ended',
    body: 'A host ended the meeting for everyone.',
    tips: [],
    actions: ['retry'],
  },
  'too-many-connections': {
    icon: 'alert',
    title: 'Too many connections',
    body: 'The server refused the connection because too many come from your network at once.',
    tips: ['Close other tabs with this meeting open, then try again.'],
    actions: ['retry'],
  },
  unreachable: {
    icon: 'wifi-off',
    title: 'Cannot reach the meeting server',
    body: 'Your browser could not connect to the server of this meeting.',
    tips: [
      'Check that you are connected to the internet.',
      'Some networks block the secure connection meetings use (WebSocket); try another network or ask your IT desk.',
      'The server may be restarting: this page tries again by itself.',
    ],
    actions: ['retry'],
  },
  internal: {
    icon: 'alert',
    title: 'Something went wrong on the server',
    body: 'The server could not complete your request.',
    tips: ['Try again. ' + CONTACT],
    actions: ['retry'],
  },
  'join-timeout': {
    icon: 'alert',
    title: 'Joining took too long',
    body: 'The server closed the connection before the join finished.',
    tips: ['Try again.'],
    actions: ['retry'],
  },
  draining: {
    icon: 'clock',
    title: 'The server is restarting',
    body: 'The meeting server is restarting for maintenance. This page tries again by itself.',
    tips: [],
    actions: ['retry'],
  },
  // End of a session (end {reason}) and leaving.
  left: {
    icon: 'leave',
    title: 'You left the meeting',
    body: 'Your camera and microphone are off.',
    tips: [],
    actions: ['rejoin'],
  },
  ended: {
    icon: 'leave',
    title: 'The meeting has ended',
    body: 'A host ended the meeting for everyone.',
    tips: [],
    actions: [],
  },
  'ended-by-you': {
    icon: 'leave',
    title: 'You ended the meeting',
    body: 'Everyone has been disconnected.',
    tips: [],
    actions: [],
  },
  removed: {
    icon: 'leave',
    title: 'You were removed from the meeting',
    body: 'A host removed you from this meeting.',
    tips: ['If you think this was a mistake, contact the host.'],
    actions: [],
  },
  denied: {
    icon: 'lock',
    title: 'You were not let in',
    body: 'A host declined your request to join this meeting.',
    tips: ['If you think this was a mistake, contact the host.'],
    actions: [],
  },
  expired: {
    icon: 'clock',
    title: 'The meeting has reached its end time',
    body: 'The meeting has passed its end date and was closed.',
    tips: [],
    actions: [],
  },
  revoked: {
    icon: 'shield',
    title: 'This meeting has been cancelled',
    body: 'The organiser withdrew this meeting; everyone has been disconnected.',
    tips: [],
    actions: [],
  },
  'media-failed': {
    icon: 'wifi-off',
    title: 'Audio and video could not connect',
    body: 'The call connection kept failing, so the server closed it.',
    tips: [
      'Try another network (for example your phone\'s hotspot) or switch off your VPN.',
      'Your network may block the ports video calls use: ask your IT desk to allow this server on TCP port 443.',
    ],
    actions: ['rejoin'],
  },
  'reconnect-failed': {
    icon: 'wifi-off',
    title: 'The connection was lost',
    body: 'Your browser lost its connection to the meeting and could not restore it.',
    tips: ['Check that you are connected to the internet, then rejoin.'],
    actions: ['rejoin'],
  },
};

/** Maps the server's end reasons (PROTOCOL.md "end") to screens. */
export const endScreen = {
  ended: 'ended',
  removed: 'removed',
  denied: 'denied',
  revoked: 'revoked',
  expired: 'expired',
  'media-failed': 'media-failed',
};

/** Join refusals (error codes with ref "join") that end the attempt. */
export const joinErrorScreen = {
  'token-invalid': 'token-invalid',
  'token-wrong-meeting': 'token-invalid',
  'meeting-not-found': 'meeting-not-found',
  'token-expired': 'token-expired',
  'meeting-expired': 'meeting-expired',
  'meeting-revoked': 'meeting-revoked',
  'meeting-full': 'meeting-full',
  'meeting-locked': 'meeting-locked',
  'meeting-ended': 'meeting-ended',
  'too-many-connections': 'too-many-connections',
  'join-timeout': 'join-timeout',
  draining: 'draining',
  internal: 'internal',
};

export const actionLabel = { retry: 'Try again', rejoin: 'Rejoin' };

/** What a capture problem means, for the notice shown in the call (localmedia.js problem codes). */
const both = (what) => what.includes(' and ');
export const deviceProblem = {
  denied: (what) => `Your browser blocked the ${what}. Allow ${both(what) ? 'them' : 'it'} from the icon in the address bar, then choose “Try again”.`,
  missing: (what) => `No ${what.replace(' and ', ' or ')} was found. Connect one, then choose “Try again”.`,
  busy: (what) => `The ${what} ${both(what) ? 'are' : 'is'} in use by another program (or the remote desktop holds ${both(what) ? 'them' : 'it'}). Close that program, then choose “Try again”.`,
  insecure: () => 'Camera and microphone need a secure (https) page.',
  error: (what) => `The ${what} could not be started.`,
};

export const mediaUnavailable =
  'Audio and video are not available on this server yet (it has no media relay). You can see who is here and chat.';

export const mediaStuck = {
  title: 'Audio and video cannot connect',
  tips: [
    'Your network may block the connection used for calls. Try another network (for example your phone\'s hotspot).',
    'Switch off a VPN if you use one.',
    'Ask your IT desk to allow this server on TCP port 443.',
  ],
};
