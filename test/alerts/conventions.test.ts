// Conventions of the shipped alerts that promtool does not check: a severity, templated summary and
// description, a runbook page for every alert (and for every per-check condition the Degraded alert
// names), the job label of the Service the ServiceMonitor scrapes, and promtool tests that make
// every alert fire and stay quiet.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { healthyCluster, onOpenShift, run } from '../health/fixtures.js';
import {
  REPO_ROOT,
  RUNBOOK_URL_PREFIX,
  SERVICE_MONITOR_OVERLAYS,
  alertTestFiles,
  alertingRules,
  loadAlertTest,
  loadPrometheusRule,
  scrapeJob,
  type Rule,
} from './rules.js';

const RUNBOOK_DIR = join(REPO_ROOT, 'docs/runbooks');
const SEVERITIES = ['critical', 'warning', 'info'];
const RUNBOOK_SECTIONS = ['## Meaning', '## Impact', '## Diagnosis', '## Mitigation'];

const alerts = alertingRules();
const alertNames = alerts.map((rule) => rule.alert!);
const byName = (name: string): Rule => alerts.find((rule) => rule.alert === name)!;

/** Alerts whose result is per EtcdHealthCheck: their expression keeps namespace and name. */
const perCheckAlerts = alerts.filter((rule) => /by \(namespace, name\)/.test(rule.expr)).map((r) => r.alert!);

function runbookText(name: string): string {
  const path = join(RUNBOOK_DIR, `${name}.md`);
  if (!existsSync(path)) throw new Error(`docs/runbooks/${name}.md is missing`);
  return readFileSync(path, 'utf8');
}

describe('alert conventions', () => {
  it('alert names are unique and CamelCase', () => {
    expect(new Set(alertNames).size).toBe(alertNames.length);
    for (const name of alertNames) expect(name).toMatch(/^EtcdHealth[A-Z][A-Za-z]+$/);
  });

  it.each(alertNames)('%s has a severity, a summary, a description and a runbook_url', (name) => {
    const rule = byName(name);
    expect(SEVERITIES).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary?.trim()).toBeTruthy();
    expect(rule.annotations?.description?.trim()).toBeTruthy();
    expect(rule.annotations?.runbook_url).toBe(`${RUNBOOK_URL_PREFIX}${name}.md`);
  });

  it.each(alertNames)('%s has a runbook page with Meaning, Impact, Diagnosis and Mitigation', (name) => {
    const text = runbookText(name);
    expect(text.startsWith(`# ${name}\n`)).toBe(true);
    for (const section of RUNBOOK_SECTIONS) expect(text).toContain(`\n${section}\n`);
  });

  it('every critical alert has a runbook_url (OpenShift requires it)', () => {
    const critical = alerts.filter((rule) => rule.labels?.severity === 'critical');
    expect(critical.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining(['EtcdHealthCheckUnavailable', 'EtcdHealthCheckDegraded']),
    );
    for (const rule of critical) expect(rule.annotations?.runbook_url).toMatch(/^https:\/\//);
  });

  it('per-EtcdHealthCheck alerts name the object in summary and description', () => {
    expect(perCheckAlerts.length).toBeGreaterThanOrEqual(7);
    for (const name of perCheckAlerts) {
      for (const key of ['summary', 'description']) {
        const text = byName(name).annotations![key]!;
        expect(`${name} ${key}: ${text}`).toContain('{{ $labels.namespace }}/{{ $labels.name }}');
      }
    }
  });

  it('every per-check Degraded condition the operator writes has the runbook the Degraded alert points to', () => {
    // On OpenShift, so that the conditions written only there are included.
    const types = run(healthyCluster(3, onOpenShift()))
      .conditions.map((condition) => condition.type)
      .filter((type) => type.endsWith('Degraded') && type !== 'Degraded');
    expect(types).toEqual(
      expect.arrayContaining(['DiskLatencyDegraded', 'EtcdMembersDegraded', 'ClusterEtcdOperatorDegraded']),
    );
    // SpecDegraded comes from the reconciler (an invalid spec), not from the analysis.
    for (const type of [...types, 'SpecDegraded']) {
      const text = runbookText(type);
      expect(text.startsWith(`# ${type}\n`)).toBe(true);
      for (const section of RUNBOOK_SECTIONS) expect(`${type}: ${text}`).toContain(`\n${section}\n`);
    }
  });

  it('every job matcher is the job the ServiceMonitors give the operator', () => {
    const jobs = new Set(
      alerts.flatMap((rule) => [...rule.expr.matchAll(/job="([^"]+)"/g)].map((m) => m[1])),
    );
    expect([...jobs]).toEqual([...new Set(SERVICE_MONITOR_OVERLAYS.map(scrapeJob))]);
  });

  it('lives in the operator namespace', () => {
    expect(loadPrometheusRule().metadata.namespace).toBe('etcd-health-operator');
  });
});

describe('promtool tests cover every alert', () => {
  const cases = alertTestFiles().flatMap((file) =>
    loadAlertTest(file).tests.flatMap((test) => test.alert_rule_test ?? []),
  );

  it('test only alerts that exist', () => {
    for (const testCase of cases) expect(alertNames).toContain(testCase.alertname);
  });

  it.each(alertNames)('%s is tested firing and quiet', (name) => {
    const own = cases.filter((testCase) => testCase.alertname === name);
    const firing = own.filter((testCase) => (testCase.exp_alerts ?? []).length > 0);
    const quiet = own.filter((testCase) => (testCase.exp_alerts ?? []).length === 0);
    expect({ name, firing: firing.length > 0, quiet: quiet.length > 0 }).toEqual({
      name,
      firing: true,
      quiet: true,
    });
    // Firing expectations check the rendered annotations too.
    for (const testCase of firing) {
      for (const alert of testCase.exp_alerts!) {
        expect(alert.exp_labels?.severity).toBe(byName(name).labels?.severity);
        expect(Object.keys(alert.exp_annotations ?? {}).sort()).toEqual([
          'description',
          'runbook_url',
          'summary',
        ]);
      }
    }
  });
});
