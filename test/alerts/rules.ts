// The PrometheusRule shipped in deploy/monitoring, and the promtool unit-test files next to this
// module, loaded for the tests in this directory.
import * as yaml from 'js-yaml';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PROMETHEUS_RULE_PATH = join(REPO_ROOT, 'deploy/monitoring/prometheusrule.yaml');
export const ALERT_TESTS_DIR = fileURLToPath(new URL('./', import.meta.url));
/** The name the promtool test files give the rules file (rule_files). */
export const RULES_FILE_NAME = 'etcd-health-operator.rules.yaml';
export const RUNBOOK_URL_PREFIX =
  'https://github.com/etcd-health-operator/etcd-health-operator/blob/main/docs/runbooks/';

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

export interface PrometheusRule {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: { groups: RuleGroup[] };
}

export function loadPrometheusRule(): PrometheusRule {
  return yaml.load(readFileSync(PROMETHEUS_RULE_PATH, 'utf8')) as PrometheusRule;
}

/** What `promtool check rules` reads: the PrometheusRule's spec, as a Prometheus rules file. */
export function rulesFileText(rule: PrometheusRule = loadPrometheusRule()): string {
  return yaml.dump(rule.spec, { lineWidth: -1, noRefs: true });
}

export function alertingRules(rule: PrometheusRule = loadPrometheusRule()): Rule[] {
  return rule.spec.groups.flatMap((group) => group.rules.filter((r) => r.alert !== undefined));
}

/** test/alerts/*.alerts-test.yaml: the promtool unit tests. */
export function alertTestFiles(): string[] {
  return readdirSync(ALERT_TESTS_DIR)
    .filter((file) => file.endsWith('.alerts-test.yaml'))
    .sort();
}

export interface AlertTestCase {
  eval_time: string;
  alertname: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }>;
}

export interface AlertTestFile {
  rule_files: string[];
  tests: Array<{ name?: string; alert_rule_test?: AlertTestCase[] }>;
}

export function loadAlertTest(file: string): AlertTestFile {
  return yaml.load(readFileSync(join(ALERT_TESTS_DIR, file), 'utf8')) as AlertTestFile;
}

interface ServiceMonitor {
  spec: { endpoints: Array<{ relabelings?: Array<{ targetLabel?: string; replacement?: string }> }> };
}

/** The overlays whose ServiceMonitor scrapes the operator. */
export const SERVICE_MONITOR_OVERLAYS = ['kubernetes', 'openshift'] as const;

/**
 * The `job` label the Prometheus Operator gives the operator's targets with the overlay's
 * ServiceMonitor: the Service's name, unless a relabeling of the endpoint sets `job`.
 */
export function scrapeJob(overlay: (typeof SERVICE_MONITOR_OVERLAYS)[number]): string {
  const service = yaml.load(readFileSync(join(REPO_ROOT, 'deploy/base/service.yaml'), 'utf8')) as {
    metadata: { name: string };
  };
  const monitor = yaml.load(
    readFileSync(join(REPO_ROOT, `deploy/overlays/${overlay}/servicemonitor.yaml`), 'utf8'),
  ) as ServiceMonitor;
  const jobs = monitor.spec.endpoints.map(
    (endpoint) =>
      endpoint.relabelings?.findLast((relabel) => relabel.targetLabel === 'job')?.replacement ??
      service.metadata.name,
  );
  if (new Set(jobs).size !== 1)
    throw new Error(`${overlay}: endpoints with different jobs: ${jobs.join(', ')}`);
  return jobs[0]!;
}
