// Resident memory and CPU time of a process, read from /proc, for the
// servers under test and for the load generator's own worker processes.
'use strict';

const fs = require('node:fs');
const { execSync } = require('node:child_process');

const TICKS_PER_S = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

function rssKib(pid) {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  if (!line) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(line.replace(/\D+/g, ''));
}

// User plus system CPU time of `pid`, all threads, in seconds.
function cpuSeconds(pid) {
  // The command name may hold spaces and parentheses, so fields are counted
  // after its last ')': utime and stime (fields 14 and 15) are then 11 and 12.
  const rest = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop().trim().split(/\s+/);
  return (Number(rest[11]) + Number(rest[12])) / TICKS_PER_S;
}

const sum = (pids, f) => pids.reduce((t, pid) => t + f(pid), 0);

module.exports = { rssKib, cpuSeconds, sum };
