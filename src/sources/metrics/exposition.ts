// A parser of the Prometheus text exposition format (version 0.0.4, what etcd's /metrics serves),
// as far as reading etcd's counters, gauges and histograms needs: samples with their labels and
// values. Comments (# HELP, # TYPE, any other), timestamps and OpenMetrics exemplars are ignored.
// Like a Prometheus scrape, one malformed line fails the whole text.

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  /** May be NaN, +Infinity or -Infinity. */
  value: number;
}

export type ExpositionResult = { ok: true; samples: MetricSample[] } | { ok: false; error: string };

const NAME_START = /[a-zA-Z_:]/;
const NAME_PART = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_PART = /[a-zA-Z0-9_]/;

export function parseExposition(text: string): ExpositionResult {
  const samples: MetricSample[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const parsed = parseSampleLine(line);
    if (typeof parsed === 'string') return { ok: false, error: `line ${index + 1}: ${parsed}` };
    samples.push(parsed);
  }
  return { ok: true, samples };
}

/** One sample line, or why it is not one. */
function parseSampleLine(line: string): MetricSample | string {
  let at = skipBlanks(line, 0);
  const nameEnd = scanName(line, at, NAME_START, NAME_PART);
  if (nameEnd === at) return 'expected a metric name';
  const name = line.slice(at, nameEnd);
  at = skipBlanks(line, nameEnd);
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    const end = parseLabels(line, at + 1, labels);
    if (typeof end === 'string') return `${name}: ${end}`;
    at = skipBlanks(line, end);
  }
  // After the value: an optional timestamp, then an optional exemplar ("# {...} value [ts]").
  const [valueText = '', ...rest] = line.slice(at).split(/[ \t]+/);
  const value = parseValue(valueText);
  if (value === undefined) return `${name}: ${JSON.stringify(valueText)} is not a sample value`;
  const exemplar = rest.indexOf('#');
  const trailing = exemplar < 0 ? rest : rest.slice(0, exemplar);
  if (trailing.length > 1 || (trailing.length === 1 && !/^-?\d+$/.test(trailing[0]!)))
    return `${name}: unexpected ${JSON.stringify(trailing.join(' '))} after the value`;
  return { name, labels, value };
}

/** Reads `name="value",...}` from `start` (after the brace) into `labels`; the index after `}`. */
function parseLabels(line: string, start: number, labels: Record<string, string>): number | string {
  let at = skipBlanks(line, start);
  while (line[at] !== '}') {
    const nameEnd = scanName(line, at, LABEL_START, LABEL_PART);
    if (nameEnd === at) return at >= line.length ? 'unterminated label set' : 'expected a label name';
    const label = line.slice(at, nameEnd);
    at = skipBlanks(line, nameEnd);
    if (line[at] !== '=') return `label ${label}: expected "="`;
    at = skipBlanks(line, at + 1);
    if (line[at] !== '"') return `label ${label}: expected a quoted value`;
    const value = parseQuoted(line, at + 1);
    if (typeof value === 'string') return `label ${label}: ${value}`;
    if (label in labels) return `label ${label} appears twice`;
    labels[label] = value.text;
    at = skipBlanks(line, value.end);
    if (line[at] === ',') at = skipBlanks(line, at + 1);
    else if (line[at] !== '}') return `label ${label}: expected "," or "}"`;
  }
  return at + 1;
}

/** A label value from after its opening quote, with \\, \" and \n unescaped; `end` is after the closing quote. */
function parseQuoted(line: string, start: number): { text: string; end: number } | string {
  let text = '';
  for (let at = start; at < line.length; at++) {
    const char = line[at]!;
    if (char === '"') return { text, end: at + 1 };
    if (char !== '\\') {
      text += char;
      continue;
    }
    const next = line[++at];
    if (next === 'n') text += '\n';
    else if (next === '\\' || next === '"') text += next;
    else return `unknown escape \\${next ?? ''}`;
  }
  return 'unterminated quoted value';
}

/** Go's ParseFloat as the format uses it: decimals, NaN and ±Inf (any case). */
export function parseValue(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

function scanName(line: string, start: number, first: RegExp, rest: RegExp): number {
  if (start >= line.length || !first.test(line[start]!)) return start;
  let at = start + 1;
  while (at < line.length && rest.test(line[at]!)) at++;
  return at;
}

function skipBlanks(line: string, start: number): number {
  let at = start;
  while (line[at] === ' ' || line[at] === '\t') at++;
  return at;
}
