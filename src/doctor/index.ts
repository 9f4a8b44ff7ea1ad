/**
 * `listwash doctor`: the prober's pre-flight. Checks the DNS resolver and, per egress identity, what
 * makes probe results unreliable — outbound port 25, the egress IP, HELO name, reverse DNS, SPF, DNSBL
 * listings — and says plainly what will go wrong and how to fix it.
 */
export { checkDnsbls, classifyDnsblAnswer, judgeDnsbls, lookupDnsbl, type ZoneOutcome } from './dnsbl.js';
export { decideEgressIp, isPublicIp, type EgressDecision, type EgressInput } from './egress-ip.js';
export { checkLine, logLines, reportJson, reportLines, summaryLine } from './format.js';
export { probeGreeting, type GreetingOutcome, type GreetingProbeOptions } from './greeting-probe.js';
export { checkHelo, isFqdn, judgeHelo } from './helo.js';
export { checkPort25, judgePort25, parsePort25Host, port25Address, type Port25Settings, type Port25Target } from './port25.js';
export { checkResolver } from './resolver.js';
export { checkReverseDns, judgeReverseDns } from './reverse-dns.js';
export { doctorContextFromConfig, identitiesFromConfig, port25SettingsFromConfig, runChecks, type DoctorContext, type DoctorOptions } from './run.js';
export { checkSpfOf, judgeSpf, spfDomainOf } from './spf-check.js';
export { checkSpf, inNetwork, SPF_LOOKUP_LIMIT, SPF_VOID_LOOKUP_LIMIT, type SpfQuery, type SpfResult, type SpfVerdict } from './spf-eval.js';
export { expandMacros, type MacroContext } from './spf-macro.js';
export { isSpfRecord, parseSpf, type Directive, type Mechanism, type SpfRecord } from './spf-record.js';
export { CHECK_LABELS, type CheckId, type CheckLevel, type CheckResult, type DoctorIdentity, type DoctorReport, type IdentityReport } from './types.js';

import type { Config } from '../config.js';
import { errorMessage } from '../errors.js';
import { logLines } from './format.js';
import { doctorContextFromConfig, identitiesFromConfig, runChecks, type DoctorOptions } from './run.js';
import type { DoctorIdentity, DoctorReport } from './types.js';

/** Run the doctor with the configuration's settings (its own DNS client, closed at the end). */
export async function doctor(cfg: Config, opts: DoctorOptions = {}, identities: readonly DoctorIdentity[] = identitiesFromConfig(cfg)): Promise<DoctorReport> {
  const ctx = doctorContextFromConfig(cfg, opts);
  try {
    return await runChecks(ctx, identities);
  } finally {
    ctx.close();
  }
}

/**
 * The worker's start-up check: run the doctor and hand one line per check to `log` (then the summary).
 * Never rejects: a doctor that cannot run at all is logged as one FAIL line; the worker starts either way.
 */
export async function logStartupChecks(cfg: Config, log: (line: string) => void): Promise<DoctorReport | null> {
  try {
    const report = await doctor(cfg);
    for (const line of logLines(report)) log(line);
    return report;
  } catch (err) {
    log(`FAIL the checks could not run: ${errorMessage(err)}`);
    return null;
  }
}
