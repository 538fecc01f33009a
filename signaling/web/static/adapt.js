// Thin and slow links (issue 6, the client's part): from the stats summaries (stats.js, one every
// two seconds) decide
//   - whether the call runs in a "reduced mode" the person should know about: media over TCP or
//     relayed through TURN (more delay; the relay protects audio first), low estimated bandwidth,
//     or audio-only switched on;
//   - whether video cannot keep up, so that the client proposes audio-only: sustained high loss,
//     a very low send estimate, or most received frames dropped, over several readings in a row
//     (one bad reading is noise).
// Pure: no DOM, no timers; app.js feeds it and draws the result.

export const LOW_BPS = 250000; // below this estimate the call is "low bandwidth" (issue 6: a few hundred kbit/s)
export const STRAIN_BPS = 150000; // below this, video cannot keep up with audio beside it
export const STRAIN_LOSS = 0.1; // received or sent loss above 10 %
export const STRAIN_DROP = 0.3; // more than 30 % of received frames dropped
export const STRAIN_READINGS = 3; // in a row (about 6 s)
// The browser's send estimate starts low and ramps up (GCC) whenever video (re)starts, and falls
// while only audio is sent: it means something only after video has flowed this many readings.
export const RAMP_READINGS = 8;

/** The reasons for a reduced mode, as words for people: [] when none. */
export function reducedReasons(self, { audioOnly = false, lowReadings = 0 } = {}) {
  const out = [];
  const label = self && self.path ? self.path.label : '';
  if (label === 'TCP') out.push('media over TCP');
  else if (label.startsWith('TURN')) out.push(`media relayed through TURN (${label.slice(5)})`);
  if (lowReadings >= STRAIN_READINGS) out.push('low bandwidth');
  if (audioOnly) out.push('audio only');
  return out;
}

/** Why video cannot keep up in this one reading, or null. `ramped`: the send estimate is meaningful. */
export function strainOf(self, ramped = true) {
  if (!self) return null;
  if (ramped && self.availableOutBps != null && self.availableOutBps < STRAIN_BPS) return 'very little bandwidth';
  if (self.loss != null && self.loss > STRAIN_LOSS) return 'heavy loss on what you send';
  if (self.videoLoss != null && self.videoLoss > STRAIN_LOSS) return 'heavy loss on what you receive';
  if (self.framesReceived >= 10 && self.framesDropped / self.framesReceived > STRAIN_DROP) return 'video frames dropped';
  return null;
}

/** Keeps the run of readings; feed() returns {reduced: [reasons], suggest: reason | null}. */
export class Adapt {
  constructor() {
    this.strained = 0;
    this.low = 0;
    this.lastStrain = null;
    this.sending = 0; // readings in a row with video going out
  }

  feed(self, audioOnly) {
    this.sending = self && self.videoSendBps > 0 ? this.sending + 1 : 0;
    const ramped = this.sending >= RAMP_READINGS;
    const strain = strainOf(self, ramped);
    this.strained = strain ? this.strained + 1 : 0;
    if (strain) this.lastStrain = strain;
    const low = ramped && self.availableOutBps != null && self.availableOutBps < LOW_BPS;
    this.low = low ? this.low + 1 : 0;
    return {
      reduced: reducedReasons(self, { audioOnly, lowReadings: this.low }),
      suggest: !audioOnly && this.strained >= STRAIN_READINGS ? this.lastStrain : null,
    };
  }

  reset() {
    this.strained = 0;
    this.low = 0;
    this.sending = 0;
  }
}
