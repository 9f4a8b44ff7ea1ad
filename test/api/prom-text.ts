/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: every line is a HELP,
 * a TYPE or a sample; metric and label names are valid; label values are properly escaped; values
 * are numbers (or ±Inf, NaN); each family has one TYPE, given before its samples; no sample twice.
 */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const VALUE = '(?:[+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|[+-]Inf|NaN)';
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (${VALUE})(?: -?\\d+)?$`);
const LABEL_PAIR_RE = new RegExp(`^(${LABEL})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseLabels(text: string, line: number): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const m = LABEL_PAIR_RE.exec(rest);
    if (!m) throw new Error(`line ${line}: bad label set {${text}}`);
    if (m[1]! in out) throw new Error(`line ${line}: label ${m[1]} twice`);
    out[m[1]!] = m[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(m[0].length);
    if (rest.startsWith(',')) rest = rest.slice(1);
    else if (rest !== '') throw new Error(`line ${line}: expected , between labels in {${text}}`);
  }
  return out;
}

/** The family a sample belongs to (histogram/summary parts share their family's TYPE). */
function familyOf(name: string, types: Map<string, string>): string | null {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : null;
    if (base !== null && (types.get(base) === 'histogram' || types.get(base) === 'summary')) return base;
  }
  return null;
}

export function parsePrometheusText(text: string): PromSample[] {
  if (!text.endsWith('\n')) throw new Error('the text must end with a newline');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const seen = new Set<string>();
  const samples: PromSample[] = [];
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((l, i) => {
    const n = i + 1;
    if (l === '') return;
    if (l.startsWith('# HELP ')) {
      const m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(l);
      if (!m) throw new Error(`line ${n}: bad HELP: ${l}`);
      if (helps.has(m[1]!)) throw new Error(`line ${n}: HELP of ${m[1]} twice`);
      helps.add(m[1]!);
      return;
    }
    if (l.startsWith('# TYPE ')) {
      const m = new RegExp(`^# TYPE (${NAME}) (\\w+)$`).exec(l);
      if (!m || !TYPES.has(m[2]!)) throw new Error(`line ${n}: bad TYPE: ${l}`);
      if (types.has(m[1]!)) throw new Error(`line ${n}: TYPE of ${m[1]} twice`);
      types.set(m[1]!, m[2]!);
      return;
    }
    if (l.startsWith('#')) return;
    const m = SAMPLE_RE.exec(l);
    if (!m) throw new Error(`line ${n}: not a sample: ${l}`);
    const name = m[1]!;
    if (familyOf(name, types) === null) throw new Error(`line ${n}: sample of ${name} before its TYPE`);
    const labels = parseLabels(m[2] ?? '', n);
    const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}}`;
    if (seen.has(key)) throw new Error(`line ${n}: sample ${key} twice`);
    seen.add(key);
    const raw = m[3]!;
    samples.push({ name, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  });
  return samples;
}

/** The value of one sample, by name and (a subset of) labels; undefined when absent. */
export function sampleValue(samples: PromSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
