// The etcd mixin's membership alerts, as kube-prometheus-stack ships them (fixtures/: selector
// job=~".*etcd.*"), evaluated by promtool on the operator's own scrape targets: two replicas, one
// down, beside a healthy 3-member etcd. With the job each overlay's ServiceMonitor gives the
// operator they stay silent. The control case names the job after the Service, as the Prometheus
// Operator does without the relabeling: there they page, so the fixture and the test can fail.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectSuccess, promtool } from './promtool.js';
import { ALERT_TESTS_DIR, REPO_ROOT, SERVICE_MONITOR_OVERLAYS, scrapeJob } from './rules.js';

const MIXIN_RULES = 'etcd-mixin-membership.rules.yaml';
const OPERATOR_NAMESPACE = 'etcd-health-operator';
const SERVICE = (
  yaml.load(readFileSync(join(REPO_ROOT, 'deploy/base/service.yaml'), 'utf8')) as {
    metadata: { name: string };
  }
).metadata.name;

/** up of both operator replicas (op-b's scrapes fail throughout) and of a healthy etcd. */
function inputSeries(job: string) {
  const replica = (pod: string, values: string) => ({
    series: `up{job="${job}",instance="10.128.0.${pod === 'op-a' ? 5 : 6}:8080",namespace="${OPERATOR_NAMESPACE}",pod="${pod}"}`,
    values,
  });
  const member = (n: number) => ({
    series: `up{job="etcd",instance="10.0.0.${n}:2379",namespace="kube-system",pod="etcd-${n}"}`,
    values: '1x40',
  });
  return [replica('op-a', '1x40'), replica('op-b', '0x40'), member(1), member(2), member(3)];
}

/** A promtool test file: etcdInsufficientMembers after its 3m, etcdMembersDown after its 20m. */
function alertTest(job: string, firing: boolean): string {
  const labels = { job, namespace: OPERATOR_NAMESPACE, pod: 'op-b' };
  return yaml.dump({
    rule_files: [MIXIN_RULES],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: inputSeries(job),
        alert_rule_test: [
          {
            eval_time: '10m',
            alertname: 'etcdInsufficientMembers',
            exp_alerts: firing ? [{ exp_labels: { ...labels, severity: 'critical' } }] : [],
          },
          {
            eval_time: '30m',
            alertname: 'etcdMembersDown',
            exp_alerts: firing ? [{ exp_labels: { ...labels, severity: 'warning' } }] : [],
          },
        ],
      },
    ],
  });
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ehc-anchor-rules-'));
  copyFileSync(join(ALERT_TESTS_DIR, 'fixtures', MIXIN_RULES), join(dir, MIXIN_RULES));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the etcd mixin's membership alerts with one operator replica down", () => {
  it.each(SERVICE_MONITOR_OVERLAYS)(
    'stay silent with the job the %s ServiceMonitor gives',
    async (overlay) => {
      const job = scrapeJob(overlay);
      expect(job).not.toMatch(/etcd/);
      const file = `${overlay}.alerts-test.yaml`;
      writeFileSync(join(dir, file), alertTest(job, false));
      const result = await promtool(['test', 'rules', file], dir);
      expectSuccess(result);
      expect(result.output).toContain('SUCCESS');
    },
  );

  it(`page with a job named after the Service ${SERVICE} (the control)`, async () => {
    expect(SERVICE).toMatch(/etcd/);
    writeFileSync(join(dir, 'service-name.alerts-test.yaml'), alertTest(SERVICE, true));
    const result = await promtool(['test', 'rules', 'service-name.alerts-test.yaml'], dir);
    expectSuccess(result);
    expect(result.output).toContain('SUCCESS');
  });
});
