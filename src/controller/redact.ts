// The last line of defence for credentials the operator sent: a source may echo what it was sent
// (a proxy's error page, a hostile Prometheus that reflects the Authorization header), and a
// source's words reach the status and, through condition transitions, Events. Whatever the
// sources' own sanitising keeps, a credential the check used never comes back out.
const REDACTED = '[redacted]';

/** Shorter values cannot be told from ordinary words. */
const MIN_SECRET_LENGTH = 8;

/** `value` with every occurrence of each secret (as sent, or base64) in any string replaced. */
export function redactSecrets<T>(value: T, secrets: readonly (string | undefined)[]): T {
  const needles = secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)
    .flatMap((s) => [s, Buffer.from(s).toString('base64')]);
  if (needles.length === 0) return value;
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string')
      return needles.reduce((text, needle) => text.split(needle).join(REDACTED), node);
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === 'object' && !(node instanceof Date)) {
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child)]));
    }
    return node;
  };
  return walk(value) as T;
}
