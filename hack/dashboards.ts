// The dashboards of the EtcdHealthCheck checks, written once here and rendered twice: for Grafana
// (a ConfigMap the kube-prometheus-stack sidecar loads, label grafana_dashboard: "1") and for the
// OpenShift console (a ConfigMap in openshift-config-managed, label
// console.openshift.io/dashboard: "true"). `make dashboards` writes both files under
// deploy/dashboards/; test/observability/dashboards.test.ts fails when they are stale, and
// test/observability/dashboards.it.ts runs every query on a real Prometheus.
//
// The console renders a subset of Grafana's legacy model (openshift/monitoring-plugin,
// features/legacy-dashboards): panel types graph, singlestat, gauge, table and
// grafana-piechart-panel in `rows` with a `span` of 12 columns; variables of type query whose
// `label_values(X, Y)` it rewrites to `count(X) by (Y)`; "All" becomes `.+`; graph units only
// Bytes, bytes, bps, Bps, pps, ms, s, percentunit and short. Variables are replaced by plain
// `$name` substitution, so no variable name may start another one's.
import * as yaml from 'js-yaml';

/** Units of the model, each with its Grafana unit and the nearest the console knows. */
const UNITS = {
  count: { grafana: 'short', console: 'short' },
  seconds: { grafana: 's', console: 's' },
  bytes: { grafana: 'bytes', console: 'bytes' },
  ratio: { grafana: 'percentunit', console: 'percentunit' },
  perSecond: { grafana: 'ops', console: 'short' },
} as const;
type Unit = keyof typeof UNITS;

type Colour = 'green' | 'blue' | 'yellow' | 'orange' | 'red';

export interface Query {
  expr: string;
  /** Series name, with {{label}} placeholders. */
  legend?: string;
  /** A threshold drawn beside the values: a dashed line in the colour of its severity. */
  threshold?: 'info' | 'warning' | 'critical';
}

interface PanelBase {
  title: string;
  description: string;
  /** Width in Grafana's 24 columns (the console has 12: half of it). */
  width: 4 | 6 | 8 | 12 | 16 | 24;
  queries: Query[];
}

/** One number: the first value of the first series. */
interface StatPanel extends PanelBase {
  kind: 'stat' | 'gauge';
  unit: Unit;
  /** Colours from a value on (the first applies from minus infinity). */
  steps: [Colour, ...{ from: number; colour: Colour }[]];
  /** Texts for exact values, e.g. 1 -> "leading". */
  texts?: Record<string, string>;
}

interface GraphPanel extends PanelBase {
  kind: 'graph';
  unit: Unit;
  stack?: boolean;
}

/** The union conditions over time; the query's values are 1 (True), 0 (False) and -1 (Unknown). */
interface ConditionsPanel extends PanelBase {
  kind: 'conditions';
}

/** An instant query's series as rows: one column per label. */
interface TablePanel extends PanelBase {
  kind: 'table';
  columns: { label: string; title: string }[];
}

export type Panel = StatPanel | GraphPanel | ConditionsPanel | TablePanel;

export interface Row {
  title: string;
  panels: Panel[];
}

export interface Variable {
  name: string;
  label: string;
  /** `label_values(selector, label)`, the one form both Grafana and the console read. */
  query: string;
  includeAll: boolean;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  variables: Variable[];
  rows: Row[];
}

// The per-CR series of the checks selected by the variables.
const CR = 'namespace=~"$namespace",name=~"$check"';
// The operator's own series: the job its ServiceMonitor gives (ehc-operator in both overlays).
const OPERATOR = 'job=~"$job"';
const UNIONS = 'type=~"Available|Progressing|Degraded|Upgradeable"';

/** Per CR, how many of the selected checks have a condition `type` whose status matches `status`; 0 when none. */
const countConditions = (type: string, status: string) =>
  `sum(max by (namespace, name) (etcd_health_check_condition{${CR},type="${type}",status${status}}) ` +
  `or max by (namespace, name) (0 * etcd_health_check_condition{${CR},type="${type}"}))`;

/** A latency per member beside the check's own warning and critical thresholds for it. */
const latencyPanel = (title: string, gauge: string, latency: string, description: string): GraphPanel => ({
  kind: 'graph',
  title,
  description,
  width: 12,
  unit: 'seconds',
  queries: [
    { expr: `max by (namespace, name, member) (${gauge}{${CR}})`, legend: '{{name}} {{member}}' },
    ...(['warning', 'critical'] as const).map((severity) => ({
      expr: `max by (namespace, name) (etcd_health_check_latency_threshold_seconds{${CR},latency="${latency}",severity="${severity}"})`,
      legend: `{{name}} ${severity}`,
      threshold: severity,
    })),
  ],
});

export const DASHBOARD: Dashboard = {
  uid: 'etcd-health-checks',
  title: 'etcd health checks',
  description:
    'The EtcdHealthCheck checks of the etcd-health-operator: conditions over time, member latencies and DB size against the thresholds each check uses, recommendations, and the operator itself.',
  variables: [
    {
      name: 'namespace',
      label: 'Namespace',
      query: 'label_values(etcd_health_check_last_check_timestamp_seconds, namespace)',
      includeAll: true,
    },
    {
      name: 'check',
      label: 'EtcdHealthCheck',
      query: 'label_values(etcd_health_check_last_check_timestamp_seconds{namespace=~"$namespace"}, name)',
      includeAll: true,
    },
    {
      name: 'job',
      label: 'Operator job',
      query: 'label_values(etcd_health_operator_leader, job)',
      includeAll: false,
    },
  ],
  rows: [
    {
      title: 'Overview',
      panels: [
        {
          kind: 'stat',
          title: 'Checks',
          description:
            'EtcdHealthChecks that completed a check (suspended and invalid ones are not counted).',
          width: 4,
          unit: 'count',
          steps: ['blue'],
          queries: [{ expr: `count(etcd_health_check_last_check_timestamp_seconds{${CR}})` }],
        },
        {
          kind: 'stat',
          title: 'Not Available',
          description: 'Checks whose Available condition is False (no leader or no quorum) or Unknown.',
          width: 4,
          unit: 'count',
          steps: ['green', { from: 0.5, colour: 'red' }],
          queries: [{ expr: countConditions('Available', '!="True"') }],
        },
        {
          kind: 'stat',
          title: 'Degraded',
          description:
            'Checks with Degraded=True: a check has stayed critical for the degraded inertia (2 minutes by default).',
          width: 4,
          unit: 'count',
          steps: ['green', { from: 0.5, colour: 'red' }],
          queries: [{ expr: countConditions('Degraded', '="True"') }],
        },
        {
          kind: 'stat',
          title: 'Not Upgradeable',
          description: 'Checks whose Upgradeable condition is False or Unknown: not the time to upgrade.',
          width: 4,
          unit: 'count',
          steps: ['green', { from: 0.5, colour: 'orange' }],
          queries: [{ expr: countConditions('Upgradeable', '!="True"') }],
        },
        {
          kind: 'stat',
          title: 'Critical recommendations',
          description:
            'Recommendations of severity Critical in the selected checks: each names the commands to run.',
          width: 4,
          unit: 'count',
          steps: ['green', { from: 0.5, colour: 'red' }],
          queries: [{ expr: `sum(etcd_health_check_recommendations{${CR},severity="Critical"})` }],
        },
        {
          kind: 'gauge',
          title: 'Largest quota use',
          description:
            'Largest DB size / backend quota among the members of the selected checks; the default Info, Warning and Critical tiers are 65, 75 and 85 %.',
          width: 4,
          unit: 'ratio',
          steps: [
            'green',
            { from: 0.65, colour: 'yellow' },
            { from: 0.75, colour: 'orange' },
            { from: 0.85, colour: 'red' },
          ],
          queries: [{ expr: `max(etcd_health_check_quota_usage_ratio{${CR}})` }],
        },
      ],
    },
    {
      title: 'Conditions',
      panels: [
        {
          kind: 'conditions',
          title: 'Conditions over time',
          description:
            'The four union conditions of each check: 1 True, 0 False, -1 Unknown. Available and Upgradeable are good when True, Degraded and Progressing when False.',
          width: 24,
          queries: [
            {
              expr:
                `max by (namespace, name, type) (etcd_health_check_condition{${CR},${UNIONS},status="True"} ` +
                `or 0 * etcd_health_check_condition{${CR},${UNIONS},status="False"} ` +
                `or -1 * etcd_health_check_condition{${CR},${UNIONS},status="Unknown"})`,
              legend: '{{namespace}}/{{name}} {{type}}',
            },
          ],
        },
        {
          kind: 'table',
          title: 'Conditions now',
          description:
            'Every condition of the selected checks, the unions and one per check family; `kubectl describe ehc` has the reasons and messages.',
          width: 12,
          columns: [
            { label: 'namespace', title: 'Namespace' },
            { label: 'name', title: 'EtcdHealthCheck' },
            { label: 'type', title: 'Condition' },
            { label: 'status', title: 'Status' },
          ],
          queries: [{ expr: `max by (namespace, name, type, status) (etcd_health_check_condition{${CR}})` }],
        },
        {
          kind: 'graph',
          title: 'Age of the last check',
          description:
            'Time since each check last completed; the EtcdHealthCheckStale alert fires past 5 intervals (at least 5 minutes).',
          width: 12,
          unit: 'seconds',
          queries: [
            {
              expr: `time() - max by (namespace, name) (etcd_health_check_last_check_timestamp_seconds{${CR}})`,
              legend: '{{namespace}}/{{name}}',
            },
            {
              expr: `max by (namespace, name) (etcd_health_check_interval_seconds{${CR}})`,
              legend: '{{namespace}}/{{name}} interval',
              threshold: 'info',
            },
          ],
        },
      ],
    },
    {
      title: 'Members',
      panels: [
        latencyPanel(
          'WAL fsync p99',
          'etcd_health_check_member_wal_fsync_p99_seconds',
          'wal_fsync_p99',
          "Each member's WAL fsync p99 against the warning and critical thresholds of its check (10 ms and 50 ms by default).",
        ),
        latencyPanel(
          'Backend commit p99',
          'etcd_health_check_member_backend_commit_p99_seconds',
          'backend_commit_p99',
          "Each member's backend commit p99 against the warning and critical thresholds of its check (25 ms and 100 ms by default).",
        ),
        {
          kind: 'graph',
          title: 'DB size against quota',
          description:
            "Each member's physical DB size, its backend quota (etcd raises NOSPACE and refuses writes when the DB reaches it) and the check's DB size warning threshold.",
          width: 12,
          unit: 'bytes',
          queries: [
            {
              expr: `max by (namespace, name, member) (etcd_health_check_member_db_size_bytes{${CR}})`,
              legend: '{{name}} {{member}}',
            },
            {
              expr: `min by (namespace, name) (etcd_health_check_member_quota_backend_bytes{${CR}})`,
              legend: '{{name}} quota',
              threshold: 'critical',
            },
            {
              expr: `max by (namespace, name) (etcd_health_check_db_size_threshold_bytes{${CR},severity="warning"})`,
              legend: '{{name}} warning',
              threshold: 'warning',
            },
          ],
        },
        {
          kind: 'graph',
          title: 'Quota use',
          description:
            "Largest DB size / quota of each check against its check's Info, Warning and Critical tiers (65, 75, 85 % by default).",
          width: 12,
          unit: 'ratio',
          queries: [
            {
              expr: `max by (namespace, name) (etcd_health_check_quota_usage_ratio{${CR}})`,
              legend: '{{namespace}}/{{name}}',
            },
            ...(['info', 'warning', 'critical'] as const).map((severity) => ({
              expr: `max by (namespace, name) (etcd_health_check_quota_usage_threshold_ratio{${CR},severity="${severity}"})`,
              legend: `{{name}} ${severity}`,
              threshold: severity,
            })),
          ],
        },
      ],
    },
    {
      title: 'Recommendations',
      panels: [
        {
          kind: 'graph',
          title: 'Recommendations by severity',
          description: 'Recommendations in the status of the selected checks, stacked by severity.',
          width: 8,
          unit: 'count',
          stack: true,
          queries: [
            {
              expr: `sum by (severity) (etcd_health_check_recommendations{${CR}})`,
              legend: '{{severity}}',
            },
          ],
        },
        {
          kind: 'table',
          title: 'Recommendations now',
          description:
            'What the checks recommend; the message and the exact commands are in status.recommendations (`kubectl get ehc NAME -o yaml`).',
          width: 16,
          columns: [
            { label: 'namespace', title: 'Namespace' },
            { label: 'name', title: 'EtcdHealthCheck' },
            { label: 'severity', title: 'Severity' },
            { label: 'type', title: 'Recommendation' },
            { label: 'target', title: 'Target' },
            { label: 'reason', title: 'Reason' },
          ],
          queries: [
            {
              expr: `max by (namespace, name, severity, type, target, reason) (etcd_health_check_recommendation_info{${CR}})`,
            },
          ],
        },
      ],
    },
    {
      title: 'Operator',
      panels: [
        {
          kind: 'stat',
          title: 'Replicas up',
          description: 'Operator replicas Prometheus scrapes successfully.',
          width: 4,
          unit: 'count',
          steps: ['red', { from: 0.5, colour: 'green' }],
          queries: [{ expr: `sum(up{${OPERATOR}})` }],
        },
        {
          kind: 'stat',
          title: 'Leader',
          description:
            'Whether a replica holds the leader Lease: only the leader checks and exports per-CR series.',
          width: 4,
          unit: 'count',
          steps: ['red', { from: 0.5, colour: 'green' }],
          texts: { '0': 'none', '1': 'leading' },
          queries: [{ expr: `max(etcd_health_operator_leader{${OPERATOR}})` }],
        },
        {
          kind: 'graph',
          title: 'Reconciles',
          description:
            'Reconciles per second by result; errors are failures to read references or write status.',
          width: 8,
          unit: 'perSecond',
          queries: [
            {
              expr: `sum by (result) (rate(etcd_health_operator_reconcile_total{${OPERATOR}}[5m]))`,
              legend: '{{result}}',
            },
          ],
        },
        {
          kind: 'graph',
          title: 'Reconcile duration p99',
          description: 'p99 of one reconcile, observing etcd and Prometheus included.',
          width: 8,
          unit: 'seconds',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (le) (rate(etcd_health_operator_reconcile_duration_seconds_bucket{${OPERATOR}}[5m])))`,
              legend: 'p99',
            },
          ],
        },
        {
          kind: 'graph',
          title: 'Work queue',
          description: 'Keys waiting in the work queue, and keys re-queued with backoff after an error.',
          width: 8,
          unit: 'count',
          queries: [
            { expr: `sum(etcd_health_operator_workqueue_depth{${OPERATOR}})`, legend: 'depth' },
            {
              expr: `sum(rate(etcd_health_operator_workqueue_retries_total{${OPERATOR}}[5m]))`,
              legend: 'retries/s',
            },
          ],
        },
        {
          kind: 'graph',
          title: 'Source request p99',
          description: 'p99 time to query etcd and Prometheus for one check.',
          width: 8,
          unit: 'seconds',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (source, le) (rate(etcd_health_operator_source_request_duration_seconds_bucket{${OPERATOR}}[5m])))`,
              legend: '{{source}}',
            },
          ],
        },
        {
          kind: 'graph',
          title: 'Source errors',
          description:
            'Checks per second in which etcd or Prometheus failed or answered only in part (0 for a source queried without errors).',
          width: 8,
          unit: 'perSecond',
          queries: [
            {
              expr:
                `sum by (source) (rate(etcd_health_operator_source_errors_total{${OPERATOR}}[5m])) ` +
                `or sum by (source) (0 * rate(etcd_health_operator_source_request_duration_seconds_count{${OPERATOR}}[5m]))`,
              legend: '{{source}}',
            },
          ],
        },
        {
          kind: 'graph',
          title: 'Memory',
          description: 'Resident memory of each operator replica.',
          width: 8,
          unit: 'bytes',
          queries: [{ expr: `process_resident_memory_bytes{${OPERATOR}}`, legend: '{{instance}}' }],
        },
        {
          kind: 'graph',
          title: 'Status writes',
          description:
            'Status writes per second by why they were made (first status, change, heartbeat, ...).',
          width: 12,
          unit: 'perSecond',
          queries: [
            {
              expr: `sum by (why) (rate(etcd_health_operator_status_writes_total{${OPERATOR}}[5m]))`,
              legend: '{{why}}',
            },
          ],
        },
        {
          kind: 'graph',
          title: 'Source lookups',
          description:
            'Observations and queries a check needed per second, by source and whether a recent answer of another check served it (shared).',
          width: 12,
          unit: 'perSecond',
          queries: [
            {
              expr: `sum by (source, shared) (rate(etcd_health_operator_source_lookups_total{${OPERATOR}}[5m]))`,
              legend: '{{source}} shared={{shared}}',
            },
          ],
        },
      ],
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// Grafana (schema 39: top-level panels with gridPos, rows as row panels).

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const REF_IDS = 'ABCDEFGHIJ';
const THRESHOLD_COLOURS: Record<NonNullable<Query['threshold']>, Colour> = {
  info: 'blue',
  warning: 'orange',
  critical: 'red',
};
const STAT_HEIGHT = 4;
const PANEL_HEIGHT = 8;

function grafanaTargets(panel: Panel, instant: boolean) {
  return panel.queries.map((query, i) => ({
    refId: REF_IDS[i],
    datasource: DATASOURCE,
    expr: query.expr,
    ...(query.legend ? { legendFormat: query.legend } : {}),
    ...(instant ? { instant: true, range: false, format: 'table' } : { range: true }),
  }));
}

function grafanaSteps(steps: StatPanel['steps']) {
  const [base, ...rest] = steps;
  return {
    mode: 'absolute',
    steps: [{ color: base, value: null }, ...rest.map((s) => ({ color: s.colour, value: s.from }))],
  };
}

/** Dashed lines in the colour of their severity for the threshold queries of a graph. */
function thresholdOverrides(panel: Panel) {
  return panel.queries.flatMap((query, i) =>
    query.threshold
      ? [
          {
            matcher: { id: 'byFrameRefID', options: REF_IDS[i] },
            properties: [
              { id: 'color', value: { mode: 'fixed', fixedColor: THRESHOLD_COLOURS[query.threshold] } },
              { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
              { id: 'custom.fillOpacity', value: 0 },
              { id: 'custom.stacking', value: { mode: 'none' } },
            ],
          },
        ]
      : [],
  );
}

const conditionMapping = (truth: Colour, falsehood: Colour) => [
  {
    type: 'value',
    options: {
      '1': { text: 'True', color: truth, index: 0 },
      '0': { text: 'False', color: falsehood, index: 1 },
      '-1': { text: 'Unknown', color: 'yellow', index: 2 },
    },
  },
];

function grafanaPanelBody(panel: Panel): Record<string, unknown> {
  switch (panel.kind) {
    case 'stat':
    case 'gauge':
      return {
        type: panel.kind,
        targets: grafanaTargets(panel, false),
        fieldConfig: {
          defaults: {
            unit: UNITS[panel.unit].grafana,
            thresholds: grafanaSteps(panel.steps),
            color: { mode: 'thresholds' },
            ...(panel.kind === 'gauge' ? { min: 0, max: 1 } : {}),
            mappings: panel.texts
              ? [
                  {
                    type: 'value',
                    options: Object.fromEntries(
                      Object.entries(panel.texts).map(([value, text], index) => [value, { text, index }]),
                    ),
                  },
                ]
              : [],
          },
          overrides: [],
        },
        options: {
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          ...(panel.kind === 'stat'
            ? { colorMode: 'value', graphMode: 'area', textMode: 'auto', justifyMode: 'auto' }
            : { showThresholdMarkers: true, showThresholdLabels: false }),
          orientation: 'auto',
        },
      };
    case 'graph':
      return {
        type: 'timeseries',
        targets: grafanaTargets(panel, false),
        fieldConfig: {
          defaults: {
            unit: UNITS[panel.unit].grafana,
            min: 0,
            color: { mode: 'palette-classic' },
            custom: {
              drawStyle: 'line',
              lineWidth: 1,
              fillOpacity: panel.stack ? 60 : 10,
              showPoints: 'never',
              spanNulls: false,
              stacking: { mode: panel.stack ? 'normal' : 'none', group: 'A' },
            },
          },
          overrides: thresholdOverrides(panel),
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'bottom',
            showLegend: true,
            calcs: ['lastNotNull', 'max'],
          },
          tooltip: { mode: 'multi', sort: 'desc' },
        },
      };
    case 'conditions':
      return {
        type: 'state-timeline',
        targets: grafanaTargets(panel, false),
        fieldConfig: {
          defaults: {
            color: { mode: 'thresholds' },
            thresholds: { mode: 'absolute', steps: [{ color: 'text', value: null }] },
            mappings: conditionMapping('green', 'red'),
            custom: { fillOpacity: 80, lineWidth: 0 },
          },
          // Degraded and Progressing are good when False.
          overrides: [
            {
              matcher: { id: 'byRegexp', options: '.* Degraded$' },
              properties: [{ id: 'mappings', value: conditionMapping('red', 'green') }],
            },
            {
              matcher: { id: 'byRegexp', options: '.* Progressing$' },
              properties: [{ id: 'mappings', value: conditionMapping('blue', 'green') }],
            },
          ],
        },
        options: {
          mergeValues: true,
          showValue: 'auto',
          alignValue: 'left',
          rowHeight: 0.9,
          legend: { displayMode: 'list', placement: 'bottom', showLegend: false },
          tooltip: { mode: 'single', sort: 'none' },
        },
      };
    case 'table':
      return {
        type: 'table',
        targets: grafanaTargets(panel, true),
        fieldConfig: { defaults: {}, overrides: [] },
        options: { showHeader: true, cellHeight: 'sm', footer: { show: false } },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: { Time: true, Value: true },
              indexByName: Object.fromEntries(panel.columns.map((c, i) => [c.label, i])),
              renameByName: Object.fromEntries(panel.columns.map((c) => [c.label, c.title])),
            },
          },
        ],
      };
  }
}

export function grafanaDashboard(dashboard: Dashboard): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of dashboard.rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const panel of row.panels) {
      const h = panel.kind === 'stat' || panel.kind === 'gauge' ? STAT_HEIGHT : PANEL_HEIGHT;
      if (x + panel.width > 24) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      panels.push({
        id: id++,
        title: panel.title,
        description: panel.description,
        datasource: DATASOURCE,
        gridPos: { h, w: panel.width, x, y },
        ...grafanaPanelBody(panel),
      });
      x += panel.width;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  return {
    uid: dashboard.uid,
    title: dashboard.title,
    description: dashboard.description,
    tags: ['etcd', 'etcd-health-operator'],
    editable: true,
    graphTooltip: 1,
    refresh: '30s',
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    timezone: '',
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          includeAll: false,
          multi: false,
          refresh: 1,
          regex: '',
          options: [],
        },
        ...dashboard.variables.map((v) => ({
          name: v.name,
          label: v.label,
          type: 'query',
          datasource: DATASOURCE,
          query: v.query,
          definition: v.query,
          current: {},
          hide: 0,
          includeAll: v.includeAll,
          ...(v.includeAll ? { allValue: '.+' } : {}),
          multi: false,
          refresh: 2,
          regex: '',
          sort: 1,
          options: [],
        })),
      ],
    },
    panels,
  };
}

// ---------------------------------------------------------------------------------------------
// OpenShift console (legacy rows with spans of 12 columns).

function consolePanel(panel: Panel, id: number): Record<string, unknown> {
  const targets = panel.queries.map((query, i) => ({
    refId: REF_IDS[i],
    expr: query.expr,
    ...(query.legend ? { legendFormat: query.legend } : {}),
  }));
  const common = { id, title: panel.title, description: panel.description, span: panel.width / 2 };
  switch (panel.kind) {
    case 'stat':
    case 'gauge': {
      const [base, ...rest] = panel.steps;
      return {
        ...common,
        type: panel.kind === 'stat' ? 'singlestat' : 'gauge',
        targets,
        format: UNITS[panel.unit].console,
        decimals: panel.unit === 'count' ? 0 : 2,
        valueMaps: Object.entries(panel.texts ?? {}).map(([value, text]) => ({ op: '=', value, text })),
        // The console colours a value by the last threshold strictly below it.
        options: {
          fieldOptions: {
            thresholds: [
              { color: base, value: -Number.MAX_VALUE },
              ...rest.map((s) => ({ color: s.colour, value: s.from })),
            ],
          },
        },
      };
    }
    case 'graph':
    case 'conditions':
      return {
        ...common,
        type: 'graph',
        targets,
        stack: panel.kind === 'graph' && panel.stack === true,
        legend: { show: true },
        yaxes: [
          { format: panel.kind === 'graph' ? UNITS[panel.unit].console : 'short' },
          { format: 'short' },
        ],
      };
    case 'table':
      return {
        ...common,
        type: 'table',
        targets: targets.map((t) => ({ ...t, format: 'table', instant: true })),
        styles: [
          ...panel.columns.map((c) => ({ pattern: c.label, alias: c.title, type: 'string' })),
          { pattern: 'Value', type: 'hidden' },
          { pattern: 'Time', type: 'hidden' },
        ],
      };
  }
}

export function consoleDashboard(dashboard: Dashboard): Record<string, unknown> {
  let id = 1;
  return {
    title: dashboard.title,
    description: dashboard.description,
    tags: ['etcd', 'etcd-health-operator'],
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: dashboard.variables.map((v) => ({
        name: v.name,
        label: v.label,
        type: 'query',
        query: v.query,
        current: {},
        hide: 0,
        includeAll: v.includeAll,
        options: [],
      })),
    },
    rows: dashboard.rows.map((row) => ({
      title: row.title,
      showTitle: true,
      collapse: false,
      panels: row.panels.map((panel) => consolePanel(panel, id++)),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// The ConfigMaps.

export const DASHBOARD_KEY = 'etcd-health-checks.json';
export const GRAFANA_PATH = 'deploy/dashboards/grafana-dashboard.yaml';
export const CONSOLE_PATH = 'deploy/dashboards/console-dashboard.yaml';

const HEADER =
  '# Generated by `make dashboards` (hack/dashboards-write.ts) from hack/dashboards.ts. Do not edit.\n';

function configMap(
  comment: string,
  metadata: { name: string; namespace: string; labels: Record<string, string> },
  json: Record<string, unknown>,
): string {
  const object = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      ...metadata,
      labels: { 'app.kubernetes.io/name': 'etcd-health-operator', ...metadata.labels },
    },
    data: { [DASHBOARD_KEY]: JSON.stringify(json, null, 2) },
  };
  return HEADER + comment + yaml.dump(object, { lineWidth: -1, noRefs: true, sortKeys: false });
}

export function renderGrafanaConfigMap(dashboard: Dashboard = DASHBOARD): string {
  return configMap(
    '# Loaded by the Grafana dashboard sidecar of kube-prometheus-stack (label grafana_dashboard: "1");\n' +
      '# the sidecar searches its own namespace unless sidecar.dashboards.searchNamespace says otherwise.\n',
    {
      name: 'etcd-health-operator-dashboard',
      namespace: 'etcd-health-operator',
      labels: { grafana_dashboard: '1' },
    },
    grafanaDashboard(dashboard),
  );
}

export function renderConsoleConfigMap(dashboard: Dashboard = DASHBOARD): string {
  return configMap(
    '# The OpenShift console lists it under Observe > Dashboards (admin), and with odc-dashboard in a\n' +
      "# project's Observe tab, where the namespace variable is the project.\n",
    {
      name: 'etcd-health-operator-dashboard',
      namespace: 'openshift-config-managed',
      labels: { 'console.openshift.io/dashboard': 'true', 'console.openshift.io/odc-dashboard': 'true' },
    },
    consoleDashboard(dashboard),
  );
}
