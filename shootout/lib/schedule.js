// The fault schedule of one run: the same faults in the same order for every
// run, with the gaps between them drawn from the run's seed, so runs differ
// in timing (which reconnect attempt a fault meets) but are reproducible.
'use strict';

// mulberry32: a small seeded generator; Math.random cannot be seeded.
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Durations in ms. `full` is the schedule; `compressed` keeps every
// fault but shortens the long ones so the default bench stays within budget.
const PROFILES = {
  full: { gap: 8000, refuse: 20000, stall: 60000, restartDown: 3000, offline: 30000, tail: 10000 },
  compressed: { gap: 3000, refuse: 8000, stall: 15000, restartDown: 2000, offline: 8000, tail: 6000 },
};

// Returns { profile, faults: [{kind, at, until}], faultsEnd, jobEnd } with
// times relative to the run's start (the moment the job starts). Each gap is
// the profile's gap times a factor in [0.75, 1.25) drawn from the seed.
function buildSchedule(profileName, seed) {
  const p = PROFILES[profileName];
  if (!p) throw new Error(`unknown schedule profile ${profileName}`);
  const random = seededRandom(seed);
  const gap = () => Math.round(p.gap * (0.75 + 0.5 * random()));
  const faults = [];
  let t = gap();
  const add = (kind, duration) => {
    faults.push({ kind, at: t, until: t + duration });
    t += duration + gap();
  };
  add('drop', 0);
  // Refusals only matter to clients that reconnect, so they start with a drop.
  add('refuse', p.refuse);
  add('stall', p.stall);
  add('restart', p.restartDown);
  add('offline', p.offline);
  const faultsEnd = faults[faults.length - 1].until;
  return { profile: profileName, seed, durations: p, faults, faultsEnd, jobEnd: faultsEnd + p.tail };
}

module.exports = { buildSchedule, seededRandom, PROFILES };
