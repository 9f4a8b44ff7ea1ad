/**
 * Preloaded (`node --import ./scripts/bench/rss-at-exit.mjs …`) into a process a benchmark measures: at exit,
 * writes to the file named by `LW_BENCH_RSS_FILE` the process's peak RSS (bytes) and CPU time (user + system,
 * ms), from getrusage, as JSON `{ "peakRss": …, "cpuMs": … }`.
 */
import { writeFileSync } from 'node:fs';
import process from 'node:process';

const file = process.env.LW_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ peakRss: u.maxRSS * 1024, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 }));
  });
}
