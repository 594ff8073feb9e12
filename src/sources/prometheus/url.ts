// Prometheus base URLs come from CRs, so they are untrusted input. Only the forms
// src/api/v1alpha1/prometheus-url.ts accepts are used; one normal form is compared against the
// admin's allowlists, and the query endpoint is built with the URL API, never by concatenation:
// a `?query=...#` or an encoded `%3F` cannot smuggle a second query in.
import { prometheusUrlProblem } from '../../api/v1alpha1/prometheus-url.js';

/**
 * The normal form two URLs are compared in: lowercase scheme and host (the URL API's IPv4/IPv6
 * canonical forms), an explicit port (`https://h` is `https://h:443`), and the path without a
 * trailing slash. Undefined for anything `prometheusUrlProblem` refuses.
 */
export interface NormalUrl {
  scheme: 'http' | 'https';
  host: string;
  port: string;
  /** '' for the root, otherwise '/a/b'. */
  path: string;
}

export function normalUrl(text: string): NormalUrl | undefined {
  if (prometheusUrlProblem(text) !== undefined) return undefined;
  const url = new URL(text);
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  return {
    scheme,
    host: url.hostname,
    port: url.port || (scheme === 'https' ? '443' : '80'),
    path: url.pathname.replace(/\/+$/, ''),
  };
}

/** Whether `url` is `prefix` or below it: same scheme, host and port, path at a segment boundary. */
export function urlIsUnder(url: string, prefix: string): boolean {
  const target = normalUrl(url);
  const allowed = normalUrl(prefix);
  if (!target || !allowed) return false;
  if (target.scheme !== allowed.scheme || target.host !== allowed.host || target.port !== allowed.port)
    return false;
  return target.path === allowed.path || target.path.startsWith(`${allowed.path}/`);
}

/** Whether `url` is under any of `prefixes`. */
export function urlIsAllowlisted(url: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => urlIsUnder(url, prefix));
}

/** `<base>/api/v1/query`, built with the URL API; throws for a base URL the rules refuse. */
export function queryEndpoint(baseUrl: string): URL {
  const problem = prometheusUrlProblem(baseUrl);
  if (problem !== undefined) throw new Error(`Prometheus URL ${problem}`);
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  return url;
}
