/** The doctor's report as text lines (one per check) and as JSON. Pure. */
import { CHECK_LABELS, type CheckLevel, type CheckResult, type DoctorReport } from './types.js';

/** How a level is printed: FAIL shouts. */
export const LEVEL_TEXT: Record<CheckLevel, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL', skip: 'skip' };

const LABEL_WIDTH = Math.max(...Object.values(CHECK_LABELS).map((l) => l.length));

/** `  FAIL  reverse DNS  <message>`. */
export function checkLine(c: CheckResult): string {
  return `  ${LEVEL_TEXT[c.level].padEnd(4)}  ${CHECK_LABELS[c.check].padEnd(LABEL_WIDTH)}  ${c.message}`;
}

/** The closing line: what the results mean for probing. */
export function summaryLine(report: DoctorReport): string {
  const { fails, warnings, skipped } = report;
  const counts = `${fails > 0 ? `${fails} FAIL` : 'no FAIL'}, ${warnings} warn${skipped > 0 ? `, ${skipped} not checked` : ''}`;
  if (fails > 0) return `${counts}: results will be unreliable until every FAIL is fixed`;
  if (warnings > 0 || skipped > 0) return `${counts}: nothing found that makes results unreliable, but read the warnings`;
  return 'all checks passed';
}

/** The whole report for a terminal: a header per identity, one line per check, the summary. */
export function reportLines(report: DoctorReport): string[] {
  const out: string[] = ['this machine:', ...report.machine.map(checkLine)];
  for (const r of report.identities) {
    const { name, bind, helo, mailFrom } = r.identity;
    out.push(`identity ${name}: HELO ${helo}, MAIL FROM ${mailFrom || '<>'}${bind ? `, bind ${bind}` : ''}`);
    for (const c of r.checks) out.push(checkLine(c));
  }
  out.push(summaryLine(report));
  return out;
}

/** One self-contained log line per check (for `listwash worker`'s start log). */
export function logLines(report: DoctorReport): string[] {
  const machine = report.machine.map((c) => `${LEVEL_TEXT[c.level]} ${CHECK_LABELS[c.check]}: ${c.message}`);
  const lines = report.identities.flatMap((r) => r.checks.map((c) => `${LEVEL_TEXT[c.level]} ${CHECK_LABELS[c.check]} [${r.identity.name}]: ${c.message}`));
  return [...machine, ...lines, summaryLine(report)];
}

/** The report for machines (`--json`). */
export function reportJson(report: DoctorReport): unknown {
  return {
    ok: report.fails === 0,
    fails: report.fails,
    warnings: report.warnings,
    skipped: report.skipped,
    machine: report.machine,
    identities: report.identities.map((r) => ({ ...r.identity, egressIp: r.egressIp, checks: r.checks })),
  };
}
