// User label matchers (`job="etcd"`) are parsed into (name, op, value) and serialised again with
// PromQL escaping, so that no text from a CR is ever pasted into a query: a value such as
// `etcd"} or vector(1) or up{a="` stays a string inside the quotes.

export type MatchOperator = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  name: string;
  op: MatchOperator;
  value: string;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  '"': '"',
  "'": "'",
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

export type ParsedMatcher = { ok: true; matcher: LabelMatcher } | { ok: false; error: string };

/**
 * Parses `name<op>"value"`: a label name, one of = != =~ !~, and one double-quoted string with
 * Go escapes (\\ \" \n \t ... \uXXXX), and nothing else. Anything else is refused with a reason.
 */
export function parseLabelMatcher(text: string): ParsedMatcher {
  const head = /^([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"/.exec(text);
  if (!head) return { ok: false, error: `label matcher ${JSON.stringify(text)} is not name<op>"value"` };
  const [, name, op] = head as unknown as [string, string, MatchOperator];
  let value = '';
  let i = head[0].length;
  for (;;) {
    const c = text[i];
    if (c === undefined)
      return { ok: false, error: `label matcher ${JSON.stringify(text)} has an unterminated value` };
    if (c === '"') break;
    if (c === '\n') return { ok: false, error: `label matcher ${JSON.stringify(text)} has a raw newline` };
    if (c !== '\\') {
      value += c;
      i++;
      continue;
    }
    const escape = text[i + 1] ?? '';
    if (escape in SIMPLE_ESCAPES) {
      value += SIMPLE_ESCAPES[escape];
      i += 2;
    } else if (escape === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
      value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      return {
        ok: false,
        error: `label matcher ${JSON.stringify(text)} has an unsupported escape \\${escape}`,
      };
    }
  }
  if (i !== text.length - 1) {
    return { ok: false, error: `label matcher ${JSON.stringify(text)} has text after the closing quote` };
  }
  return { ok: true, matcher: { name, op, value } };
}

/** A PromQL double-quoted string literal holding exactly `value`. */
export function quotePromQLString(value: string): string {
  let out = '"';
  for (const c of value) {
    if (c === '\\') out += '\\\\';
    else if (c === '"') out += '\\"';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c < ' ' || c === '\x7f') out += `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

export function formatMatcher(matcher: LabelMatcher): string {
  if (!LABEL_NAME.test(matcher.name)) throw new Error(`invalid label name ${JSON.stringify(matcher.name)}`);
  return `${matcher.name}${matcher.op}${quotePromQLString(matcher.value)}`;
}

/** `metric{m1,m2,...}` from a metric name and matchers; throws only on a programming error. */
export function formatSelector(metric: string, matchers: readonly LabelMatcher[]): string {
  if (!METRIC_NAME.test(metric)) throw new Error(`invalid metric name ${JSON.stringify(metric)}`);
  return `${metric}{${matchers.map(formatMatcher).join(',')}}`;
}

/** A label name for `by (...)`; the spec validates it too, this guards the query against a bypass. */
export function checkLabelName(name: string): string {
  if (!LABEL_NAME.test(name)) throw new Error(`invalid label name ${JSON.stringify(name)}`);
  return name;
}
