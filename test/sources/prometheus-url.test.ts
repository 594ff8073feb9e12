// Which Prometheus URLs a CR may name, how two URLs compare, and how the query endpoint is built:
// the forms that could smuggle a query past the token allowlist are refused or never match.
import { describe, expect, it } from '@jest/globals';
import { prometheusUrlProblem } from '../../src/api/v1alpha1/prometheus-url.js';
import { EtcdHealthCheckSpecSchema } from '../../src/api/v1alpha1/spec.js';
import { normalUrl, queryEndpoint, urlIsAllowlisted } from '../../src/sources/prometheus/url.js';

const thanos = 'https://thanos-querier.openshift-monitoring.svc:9091';

describe('prometheusUrlProblem', () => {
  it.each([
    thanos,
    `${thanos}/`,
    'http://127.0.0.1:9090',
    'https://prom.example/thanos/prefix',
    'https://[::1]:9090/',
    'https://PROM.Example',
  ])('accepts %s', (url) => expect(prometheusUrlProblem(url)).toBeUndefined());

  it.each([
    [`${thanos}/api/v1/query?query=up#`, /query or fragment/],
    [`${thanos}/#x`, /query or fragment/],
    [`${thanos}/api/v1/query%3Fquery=up%23`, /percent-encoding/],
    [`${thanos}/a\\b`, /backslashes/],
    [`https://user:pw@thanos:9091`, /userinfo/],
    [`${thanos}//api`, /empty path segments/],
    [`${thanos}/a//`, /empty path segments/],
    [`${thanos}/prefix/../other`, /\. or \.\. path segments/],
    [`${thanos}/./x`, /\. or \.\. path segments/],
    [`${thanos}/..`, /\. or \.\. path segments/],
    ['HTTPS://thanos:9091', /lowercase scheme/],
    ['ftp://thanos', /http\(s\)/],
    ['https://thanos:99999', /not a URL/],
    ['https://thanos:0', /invalid port/],
    ['https://thanos /x', /http\(s\)/],
  ])('refuses %s', (url, message) => expect(prometheusUrlProblem(url)).toMatch(message));

  it('is the rule zod applies to spec.prometheus.url', () => {
    const parsed = EtcdHealthCheckSpecSchema.safeParse({
      etcd: { endpoints: ['https://127.0.0.2:2379'] },
      prometheus: { url: `${thanos}/api/v1/query?query=up#` },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message)).toContain('must not have a query or fragment');
  });
});

describe('normalUrl', () => {
  it('lowercases the host, makes the default port explicit and drops a trailing slash', () => {
    expect(normalUrl('https://Thanos.EXAMPLE/')).toEqual({
      scheme: 'https',
      host: 'thanos.example',
      port: '443',
      path: '',
    });
    expect(normalUrl('http://h:80/a/b/')).toEqual({ scheme: 'http', host: 'h', port: '80', path: '/a/b' });
  });

  it('writes IP addresses in their canonical form', () => {
    expect(normalUrl('https://[0:0:0:0:0:0:0:1]:9091')?.host).toBe('[::1]');
    expect(normalUrl('https://0x7f.1:9091')?.host).toBe('127.0.0.1');
    expect(normalUrl('https://[::ffff:127.0.0.1]:9091')?.host).toBe('[::ffff:7f00:1]');
  });
});

describe('urlIsAllowlisted', () => {
  it.each([
    [thanos, [thanos], true],
    [`${thanos}/`, [thanos], true],
    [`${thanos}/prefix/api`, [`${thanos}/prefix`], true],
    [`${thanos}/prefix`, [`${thanos}/prefix/`], true],
    [`${thanos}/prefixed`, [`${thanos}/prefix`], false],
    ['https://THANOS-querier.openshift-monitoring.svc:9091', [thanos], true],
    ['https://prom.example', ['https://prom.example:443'], true],
    ['https://prom.example:443/x', ['https://prom.example'], true],
    ['http://prom.example', ['http://prom.example:80'], true],
    ['https://prom.example:8443', ['https://prom.example'], false],
    ['https://[::1]:9091', ['https://[0:0::1]:9091'], true],
    ['https://[::1]:9091', ['https://127.0.0.1:9091'], false],
    ['https://[::ffff:127.0.0.1]:9091', ['https://127.0.0.1:9091'], false],
    ['https://thanos-querier.openshift-monitoring.svc:9091.evil.example', [thanos], false],
    ['http://thanos-querier.openshift-monitoring.svc:9091', [thanos], false],
    ['https://user:pw@thanos-querier.openshift-monitoring.svc:9091', [thanos], false],
    [`${thanos}/api/v1/query?query=up#`, [thanos], false],
    [`${thanos}/api/v1/query%3Fquery=up%23`, [thanos], false],
    [`${thanos}//api`, [thanos], false],
    [`${thanos}/prefix/../other`, [`${thanos}/prefix`], false],
    ['HTTPS://thanos-querier.openshift-monitoring.svc:9091', [thanos], false],
    ['https://prometheus.example:9090', [thanos], false],
    [thanos, [], false],
    ['not a url', [thanos], false],
    [thanos, ['not a url'], false],
  ])('%s under %j -> %s', (url, prefixes, expected) => {
    expect(urlIsAllowlisted(url, prefixes)).toBe(expected);
  });
});

describe('queryEndpoint', () => {
  it('appends /api/v1/query to the path with the URL API', () => {
    expect(queryEndpoint(thanos).href).toBe(`${thanos}/api/v1/query`);
    expect(queryEndpoint('https://host/prefix/').href).toBe('https://host/prefix/api/v1/query');
    expect(queryEndpoint('https://HOST:443').href).toBe('https://host/api/v1/query');
  });

  it('has no query and no fragment of its own', () => {
    const url = queryEndpoint(`${thanos}/thanos`);
    expect([url.search, url.hash, url.username, url.password]).toEqual(['', '', '', '']);
  });

  it.each([`${thanos}/api/v1/query?query=up#`, `${thanos}/x%3F`, 'https://host/prefix//', `${thanos}/a/..`])(
    'refuses to build one from %s',
    (url) => expect(() => queryEndpoint(url)).toThrow(/^Prometheus URL must not/),
  );
});
