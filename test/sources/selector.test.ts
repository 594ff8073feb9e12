import { describe, expect, it } from '@jest/globals';
import { LABEL_MATCHER_PATTERN } from '../../src/api/v1alpha1/spec.js';
import {
  formatMatcher,
  formatSelector,
  parseLabelMatcher,
  quotePromQLString,
} from '../../src/sources/prometheus/selector.js';

const parse = (text: string) => {
  const parsed = parseLabelMatcher(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.matcher;
};

describe('parseLabelMatcher', () => {
  it.each([
    ['job="etcd"', { name: 'job', op: '=', value: 'etcd' }],
    ['job!="etcd"', { name: 'job', op: '!=', value: 'etcd' }],
    ['job=~".*etcd.*"', { name: 'job', op: '=~', value: '.*etcd.*' }],
    ['namespace!~"openshift-.*"', { name: 'namespace', op: '!~', value: 'openshift-.*' }],
    ['_x=""', { name: '_x', op: '=', value: '' }],
    ['a="q\\"uote"', { name: 'a', op: '=', value: 'q"uote' }],
    ['a="back\\\\slash"', { name: 'a', op: '=', value: 'back\\slash' }],
    ['a="line\\nbreak\\t"', { name: 'a', op: '=', value: 'line\nbreak\t' }],
    ['a="\\u00e9t\\u00e9"', { name: 'a', op: '=', value: 'été' }],
    ['a="}{,"', { name: 'a', op: '=', value: '}{,' }],
  ])('parses %s', (text, matcher) => expect(parse(text)).toEqual(matcher));

  it.each([
    ['job="etcd"} or vector(1)', /text after the closing quote/],
    ['job="etcd" or vector(1) or up{a="b"', /text after the closing quote/],
    ['job="etcd",instance="x"', /text after the closing quote/],
    ['job=etcd', /not name<op>"value"/],
    ["job='etcd'", /not name<op>"value"/],
    ['job=="etcd"', /not name<op>"value"/],
    ['1job="etcd"', /not name<op>"value"/],
    ['job ="etcd"', /not name<op>"value"/],
    ['{job="etcd"}', /not name<op>"value"/],
    ['job="etcd', /unterminated/],
    ['job="etcd\\"', /unterminated/],
    ['job="a\\qb"', /unsupported escape \\q/],
    ['job="a\\x41"', /unsupported escape \\x/],
    ['job="a\nb"', /raw newline/],
    ['', /not name<op>"value"/],
  ])('refuses %j', (text, reason) => {
    const parsed = parseLabelMatcher(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(reason);
  });

  it('keeps hostile text that the CRD pattern admits inside the quoted value', () => {
    // One escaped string: the CRD pattern admits it, and it must stay a value.
    const hostile = 'job="etcd\\"} or vector(1) or up{a=\\""';
    expect(new RegExp(LABEL_MATCHER_PATTERN).test(hostile)).toBe(true);
    const matcher = parse(hostile);
    expect(matcher).toEqual({ name: 'job', op: '=', value: 'etcd"} or vector(1) or up{a="' });
    expect(formatSelector('up', [matcher])).toBe('up{job="etcd\\"} or vector(1) or up{a=\\""}');
  });
});

describe('serialisation', () => {
  it.each([
    ['plain', '"plain"'],
    ['q"uote', '"q\\"uote"'],
    ['back\\slash', '"back\\\\slash"'],
    ['trailing\\', '"trailing\\\\"'],
    ['nl\ncr\rtab\t', '"nl\\ncr\\rtab\\t"'],
    ['bell\x07del\x7f', '"bell\\u0007del\\u007f"'],
    ['}) or vector(1) #', '"}) or vector(1) #"'],
    ['ünïcödé', '"ünïcödé"'],
  ])('quotes %j', (value, quoted) => expect(quotePromQLString(value)).toBe(quoted));

  it.each(['job="etcd"', 'a=~"x\\\\.y|z"', 'a!="q\\"\\\\\\n"', 'a!~"\\u0007"'])('round-trips %s', (text) => {
    const matcher = parse(text);
    expect(parse(formatMatcher(matcher))).toEqual(matcher);
  });

  it('builds a selector from several matchers', () => {
    expect(
      formatSelector('etcd_server_has_leader', [
        { name: 'job', op: '=', value: 'etcd' },
        { name: 'namespace', op: '=~', value: 'openshift-etcd|etcd' },
      ]),
    ).toBe('etcd_server_has_leader{job="etcd",namespace=~"openshift-etcd|etcd"}');
    expect(formatSelector('up', [])).toBe('up{}');
  });

  it('refuses names that would break out of the selector', () => {
    expect(() => formatSelector('up} or vector(1', [])).toThrow(/invalid metric name/);
    expect(() => formatMatcher({ name: 'a="b"} or vector(1) or up{c', op: '=', value: '' })).toThrow(
      /invalid label name/,
    );
  });
});
