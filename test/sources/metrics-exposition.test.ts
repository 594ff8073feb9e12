import { describe, expect, it } from '@jest/globals';
import { parseExposition, parseValue } from '../../src/sources/metrics/exposition.js';

function samples(text: string) {
  const parsed = parseExposition(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.samples;
}

describe('parseExposition', () => {
  it('reads samples without and with labels, skipping HELP, TYPE and other comments', () => {
    const text = [
      '# HELP etcd_server_has_leader Whether or not a leader exists. 1 is existence, 0 is not.',
      '# TYPE etcd_server_has_leader gauge',
      'etcd_server_has_leader 1',
      '# a comment of our own',
      '',
      'etcd_network_peer_round_trip_time_seconds_bucket{To="8e9e05c52164694d",le="0.0001"} 0',
    ].join('\n');
    expect(samples(text)).toEqual([
      { name: 'etcd_server_has_leader', labels: {}, value: 1 },
      {
        name: 'etcd_network_peer_round_trip_time_seconds_bucket',
        labels: { To: '8e9e05c52164694d', le: '0.0001' },
        value: 0,
      },
    ]);
  });

  it('unescapes backslash, quote and newline in label values, and keeps other characters as they are', () => {
    const [sample] = samples('m{a="back\\\\slash",b="say \\"hi\\"",c="two\\nlines",d="x}y,z=1 # no"} 2\n');
    expect(sample!.labels).toEqual({ a: 'back\\slash', b: 'say "hi"', c: 'two\nlines', d: 'x}y,z=1 # no' });
  });

  it('reads +Inf, -Inf, NaN and exponents, in the le label and as values', () => {
    const parsed = samples(
      ['h_bucket{le="+Inf"} 3', 'g{} NaN', 'g2 +Inf', 'g3 -Inf', 'g4 1.5e-3', 'g5 -2'].join('\n'),
    );
    expect(parsed[0]).toEqual({ name: 'h_bucket', labels: { le: '+Inf' }, value: 3 });
    expect(parsed[1]!.value).toBeNaN();
    expect(parsed.slice(2).map((s) => s.value)).toEqual([Infinity, -Infinity, 0.0015, -2]);
  });

  it('ignores timestamps, exemplars, CRLF line ends, a trailing comma and blanks around tokens', () => {
    const parsed = samples(
      [
        'c_total{code="OK"} 7 1712345678000',
        'h_bucket{le="0.5",} 4 # {trace_id="abc def"} 0.3 1712345678.1',
        'h_count 4 # {trace_id="x"} 1',
        'spaced { a = "1" , b="2" }   9\r',
      ].join('\n'),
    );
    expect(parsed).toEqual([
      { name: 'c_total', labels: { code: 'OK' }, value: 7 },
      { name: 'h_bucket', labels: { le: '0.5' }, value: 4 },
      { name: 'h_count', labels: {}, value: 4 },
      { name: 'spaced', labels: { a: '1', b: '2' }, value: 9 },
    ]);
  });

  it.each([
    ['a value that is not a number', 'm abc', 'line 2: m: "abc" is not a sample value'],
    ['no value', 'm{a="1"}', 'line 2: m: "" is not a sample value'],
    ['an unterminated label value', 'm{a="1} 2', 'line 2: m: label a: unterminated quoted value'],
    ['an unknown escape', 'm{a="\\t"} 2', 'line 2: m: label a: unknown escape \\t'],
    ['an unquoted label value', 'm{a=1} 2', 'line 2: m: label a: expected a quoted value'],
    ['a label twice', 'm{a="1",a="2"} 2', 'line 2: m: label a appears twice'],
    ['an unterminated label set', 'm{a="1"', 'line 2: m: label a: expected "," or "}"'],
    ['text after the timestamp', 'm 1 2 3', 'line 2: m: unexpected "2 3" after the value'],
    ['a timestamp that is not an integer', 'm 1 x', 'line 2: m: unexpected "x" after the value'],
    ['no metric name', '{a="1"} 2', 'line 2: expected a metric name'],
  ])('fails the whole text on %s, naming the line', (_, line, error) => {
    expect(parseExposition(`ok 1\n${line}\nok 2\n`)).toEqual({ ok: false, error });
  });

  it('reads an empty text as no samples', () => {
    expect(parseExposition('')).toEqual({ ok: true, samples: [] });
    expect(parseExposition('# only a comment\n')).toEqual({ ok: true, samples: [] });
  });
});

describe('parseValue', () => {
  it.each([
    ['1', 1],
    ['-0.5', -0.5],
    ['.5', 0.5],
    ['1e3', 1000],
    ['+Inf', Infinity],
    ['Inf', Infinity],
    ['-inf', -Infinity],
  ])('reads %s', (text, value) => expect(parseValue(text)).toBe(value));

  it('reads NaN, and nothing else that is not a number', () => {
    expect(parseValue('NaN')).toBeNaN();
    for (const text of ['', '0x10', '1,5', 'one', '1e']) expect(parseValue(text)).toBeUndefined();
  });
});
