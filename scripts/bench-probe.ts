/**
 * Probe benchmark (`npm run bench:probe`): one process verifies many addresses against simulated MX hosts
 * that add no latency, with the default open gate (no throttle). The simulated world runs in a child
 * process, so this process — the prober — is measured alone.
 *
 * Targets: ≥ 3,000 verdicts/s; at most ceil(n / rcptPerSession) + 1 connections per domain (the +1 is
 * the catch-all probe's RCPT); no DATA; every verdict equal to the world's truth.
 *
 * Options: --domains 20 --per-domain 2000 --concurrency 8 --exist 0.6 --seed 42
 */
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { createVerifier, type AddressOutcome } from '../src/engine/index.js';
import type { SimWorldSpec } from '../src/world/index.js';
import { argInt, argValue, fmt, loadLine, machineLine, mapLimit, seededRandom, verdictLine } from './bench/common.js';
import { WorldProcess } from './bench/world-process.js';

const TARGET_VERDICTS_PER_SEC = 3000;

interface DomainPlan {
  domain: string;
  host: string;
  addresses: string[];
  truth: Map<string, 'accepted' | 'mailbox_not_found'>;
}

function plan(domains: number, perDomain: number, exist: number, seed: number): { spec: SimWorldSpec; plans: DomainPlan[] } {
  const rnd = seededRandom(seed);
  const spec: SimWorldSpec = { domains: {}, hosts: {} };
  const plans: DomainPlan[] = [];
  for (let d = 0; d < domains; d++) {
    const domain = `d${d}.probe-bench.test`;
    const host = `mx.d${d}.probe-bench.test`;
    const mailboxes: string[] = [];
    const addresses: string[] = [];
    const truth = new Map<string, 'accepted' | 'mailbox_not_found'>();
    for (let k = 0; k < perDomain; k++) {
      const local = `user${k}.${Math.floor(rnd() * 1e6).toString(36)}`;
      const ok = rnd() < exist;
      if (ok) mailboxes.push(local);
      const address = `${local}@${domain}`;
      addresses.push(address);
      truth.set(address, ok ? 'accepted' : 'mailbox_not_found');
    }
    spec.domains[domain] = { mx: [{ host, preference: 10 }] };
    spec.hosts![host] = { mailboxes };
    plans.push({ domain, host, addresses, truth });
  }
  // A small domain to warm up the JIT, DNS and sockets before the measured run.
  spec.domains['warmup.probe-bench.test'] = { mx: [{ host: 'mx.warmup.probe-bench.test', preference: 10 }] };
  spec.hosts!['mx.warmup.probe-bench.test'] = { mailboxes: ['w1', 'w3'] };
  return { spec, plans };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const domains = argInt(args, 'domains', 20);
  const perDomain = argInt(args, 'per-domain', 2000);
  const concurrency = argInt(args, 'concurrency', 8);
  const exist = Number(argValue(args, 'exist', '0.6'));
  if (!(exist >= 0 && exist <= 1)) throw new Error('--exist must be between 0 and 1');
  const seed = argInt(args, 'seed', 42);

  const { spec, plans } = plan(domains, perDomain, exist, seed);
  const world = await WorldProcess.start(spec);
  try {
    const cfg = loadConfig({
      ...process.env,
      ...world.env,
      LISTWASH_HELO_NAME: 'probe.listwash.test',
      LISTWASH_MAIL_FROM: 'probe@listwash.test',
    });
    const { verifier } = createVerifier(cfg);
    const rcptPerSession = cfg.rcptPerSession;

    const warm = await verifier.verify('warmup.probe-bench.test', Array.from({ length: 300 }, (_, i) => ({ address: `w${i}@warmup.probe-bench.test` })));
    if (warm.outcomes.length !== 300) throw new Error('warm-up failed');
    await world.reset();

    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const results = await mapLimit(plans, concurrency, async (p) => verifier.verify(p.domain, p.addresses.map((address) => ({ address }))));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const { hosts } = await world.stats();

    let verdicts = 0;
    let wrong = 0;
    const wrongSamples: string[] = [];
    let worstConnRatio = 0;
    let connOk = true;
    let dataCommands = 0;
    const connLines: string[] = [];
    results.forEach((r, i) => {
      const p = plans[i]!;
      r.outcomes.forEach((o: AddressOutcome) => {
        verdicts++;
        const got = o.kind === 'deferred' ? `deferred:${o.why}` : o.verdict.reason;
        if (got !== p.truth.get(o.address)) {
          wrong++;
          if (wrongSamples.length < 5) wrongSamples.push(`${o.address}: expected ${p.truth.get(o.address)}, got ${got}`);
        }
      });
      const h = hosts[p.host]!;
      const bound = Math.ceil(p.addresses.length / rcptPerSession) + 1;
      if (h.connections > bound) connOk = false;
      worstConnRatio = Math.max(worstConnRatio, h.connections / bound);
      connLines.push(`${p.domain}: ${h.connections} connections (bound ${bound}), ${h.rcptCount} RCPTs`);
    });
    for (const h of Object.values(hosts)) dataCommands += h.dataCommands;
    const rate = verdicts / seconds;
    const expected = plans.length * perDomain;

    const out = (s: string) => process.stdout.write(s + '\n');
    out(`bench:probe — ${domains} domains × ${perDomain} addresses (${Math.round(exist * 100)}% existing), ${concurrency} domains at once, ${rcptPerSession} RCPT/session, open gate`);
    out(machineLine());
    out(`  world in child process pid ${world.pid}; prober pid ${process.pid}`);
    out(`  verdicts:     ${verdicts} (expected ${expected})`);
    out(`  seconds:      ${fmt(seconds, 3)}`);
    out(`  verdicts/s:   ${fmt(rate, 0)}`);
    out(`  prober CPU:   user ${fmt(cpu.user / 1e6)} s + system ${fmt(cpu.system / 1e6)} s (${fmt(((cpu.user + cpu.system) / 1e6 / seconds) * 100, 0)}% of one core)`);
    out(`  connections per domain (bound ceil(n/${rcptPerSession})+1 = ${Math.ceil(perDomain / rcptPerSession) + 1}):`);
    const uniq = new Map<string, number>();
    for (const l of connLines) {
      const key = l.replace(/^[^:]+: /, '');
      uniq.set(key, (uniq.get(key) ?? 0) + 1);
    }
    for (const [k, n] of uniq) out(`    ${n} domain(s): ${k}`);
    out(`  DATA commands: ${dataCommands} (all hosts)`);
    out(`  correctness:  ${verdicts - wrong}/${verdicts} verdicts equal the world's truth`);
    for (const w of wrongSamples) out(`    wrong: ${w}`);
    out(`  load average at the end: ${loadLine()}`);
    out('');
    const checks = [
      [rate >= TARGET_VERDICTS_PER_SEC, `throughput ${fmt(rate, 0)} verdicts/s ≥ ${TARGET_VERDICTS_PER_SEC}`],
      [connOk, `connections per domain ≤ ceil(n/${rcptPerSession})+1 (worst ${fmt(worstConnRatio)}× the bound)`],
      [dataCommands === 0, `DATA commands ${dataCommands} = 0`],
      [wrong === 0 && verdicts === expected, `verdicts correct ${verdicts - wrong}/${expected}`],
    ] as const;
    for (const [ok, what] of checks) out(verdictLine(ok, what));
    return checks.every(([ok]) => ok) ? 0 : 1;
  } finally {
    await world.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:probe failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
