// Which Prometheus base URLs a CR may name. Written once in RE2 syntax: zod runs the rules when a
// CR is read, the CRD runs the same text as a pattern and CEL at admission.

/**
 * Base URL: http(s), a host (name, IPv4 or [IPv6]), an optional port and a path of plain segments.
 * No userinfo, query, fragment, percent-encoding or backslash. RE2-compatible: the CRD uses it too.
 */
export const PROMETHEUS_URL_PATTERN =
  "^https?://([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?(/[A-Za-z0-9._~!$&'()*+,;=:-]+)*/?$";

/**
 * Rules the pattern alone says less clearly, each with its message. Each is a regular expression
 * that must NOT match, written once in RE2 syntax: zod runs it here, the CRD runs it as CEL.
 */
export const PROMETHEUS_URL_RULES: readonly { refuse: string; message: string }[] = [
  { refuse: '[?#]', message: 'must not have a query or fragment' },
  { refuse: '@', message: 'must not have userinfo' },
  { refuse: '[%\\\\]', message: 'must not have percent-encoding or backslashes' },
  { refuse: '^[^:]+://[^/]*/(.*/)?[.][.]?(/|$)', message: 'must not have . or .. path segments' },
  { refuse: '^[^:]+://[^/]*(/.*)?//', message: 'must not have empty path segments (//)' },
];

/** Why `text` is not an acceptable Prometheus base URL, or undefined when it is. */
export function prometheusUrlProblem(text: string): string | undefined {
  for (const rule of PROMETHEUS_URL_RULES) if (new RegExp(rule.refuse).test(text)) return rule.message;
  if (!new RegExp(PROMETHEUS_URL_PATTERN).test(text))
    return 'must be http(s)://host[:port][/path] with a lowercase scheme';
  const url = parse(text);
  if (!url) return 'is not a URL';
  if (url.port === '0' || Number(url.port) > 65535) return 'has an invalid port';
  return undefined;
}

function parse(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
