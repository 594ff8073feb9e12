// promtool on the shipped PrometheusRule: `check rules` on its spec, and `test rules` on the unit
// tests in test/alerts/*.alerts-test.yaml (every alert, firing and quiet). promtool is Debian's
// (package prometheus); a failure shows promtool's own output.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROMTOOL, expectSuccess, promtool } from './promtool.js';
import {
  ALERT_TESTS_DIR,
  RULES_FILE_NAME,
  alertTestFiles,
  alertingRules,
  loadAlertTest,
  loadPrometheusRule,
  rulesFileText,
} from './rules.js';

let dir: string;

beforeAll(() => {
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} missing: apt-get install prometheus`);
  dir = mkdtempSync(join(tmpdir(), 'ehc-promtool-'));
  writeFileSync(join(dir, RULES_FILE_NAME), rulesFileText());
  for (const file of alertTestFiles()) copyFileSync(join(ALERT_TESTS_DIR, file), join(dir, file));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('deploy/monitoring/prometheusrule.yaml', () => {
  it('is a monitoring.coreos.com/v1 PrometheusRule with alerting rules', () => {
    const rule = loadPrometheusRule();
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.kind).toBe('PrometheusRule');
    expect(alertingRules(rule).length).toBeGreaterThan(0);
  });

  it('passes promtool check rules', async () => {
    const result = await promtool(['check', 'rules', RULES_FILE_NAME], dir);
    expectSuccess(result);
    expect(result.output).toContain(`SUCCESS: ${alertingRules().length} rules found`);
  });

  it.each(alertTestFiles())('passes promtool test rules %s', async (file) => {
    expect(loadAlertTest(file).rule_files).toEqual([RULES_FILE_NAME]);
    const result = await promtool(['test', 'rules', file], dir);
    expectSuccess(result);
    expect(result.output).toContain('SUCCESS');
  });

  it('a broken expectation makes promtool test rules fail (the check can fail)', async () => {
    const broken = 'broken.alerts-test.yaml';
    writeFileSync(
      join(dir, broken),
      [
        `rule_files: [${RULES_FILE_NAME}]`,
        'evaluation_interval: 1m',
        'tests:',
        '  - interval: 1m',
        '    input_series: []',
        '    alert_rule_test:',
        '      - eval_time: 30m',
        '        alertname: EtcdHealthOperatorDown',
        '        exp_alerts: []',
        '',
      ].join('\n'),
    );
    const result = await promtool(['test', 'rules', broken], dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('EtcdHealthOperatorDown');
  });
});
