// The committed dashboards are what hack/dashboards.ts generates, and each is shaped for the tool
// that reads it: Grafana's sidecar and datasource variable, the OpenShift console's panel subset.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  CONSOLE_PATH,
  DASHBOARD,
  GRAFANA_PATH,
  renderConsoleConfigMap,
  renderGrafanaConfigMap,
} from '../../hack/dashboards.js';
import {
  dataPanels,
  panelQueries,
  readConfigMap,
  readDashboard,
  repoFile,
  substitute,
  variableQueries,
  type DashboardFlavour,
} from './dashboards-queries.js';

// openshift/monitoring-plugin, features/legacy-dashboards: the panels and graph units it renders.
const CONSOLE_PANEL_TYPES = ['gauge', 'grafana-piechart-panel', 'graph', 'singlestat', 'table'];
const CONSOLE_GRAPH_UNITS = ['Bytes', 'bytes', 'bps', 'Bps', 'pps', 'ms', 's', 'percentunit', 'short'];
const FLAVOURS: DashboardFlavour[] = ['grafana', 'console'];

describe('generated dashboards', () => {
  it.each([
    [GRAFANA_PATH, renderGrafanaConfigMap],
    [CONSOLE_PATH, renderConsoleConfigMap],
  ])('%s is up to date with hack/dashboards.ts', (path, render) => {
    const committed = readFileSync(repoFile(path), 'utf8');
    if (committed !== render()) {
      throw new Error(`${path} is stale: run \`make dashboards\` and commit the result.`);
    }
  });

  it.each(FLAVOURS)('the %s dashboard has every panel of the model, each with its queries', (flavour) => {
    const dashboard = readDashboard(flavour);
    const modelPanels = DASHBOARD.rows.flatMap((row) => row.panels);
    expect(dataPanels(dashboard).map((p) => p.title)).toEqual(modelPanels.map((p) => p.title));
    expect(panelQueries(dashboard).map((q) => q.expr)).toEqual(
      modelPanels.flatMap((p) => p.queries.map((q) => q.expr)),
    );
    expect(dataPanels(dashboard).every((p) => (p.targets ?? []).length > 0)).toBe(true);
  });

  it.each(FLAVOURS)('the %s dashboard only uses variables it declares', (flavour) => {
    const dashboard = readDashboard(flavour);
    const values = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, 'x']));
    for (const { expr } of panelQueries(dashboard)) expect(() => substitute(expr, values)).not.toThrow();
    for (const v of variableQueries(dashboard)) expect(() => substitute(v.promql, values)).not.toThrow();
  });

  it('no variable name starts another one, since the console substitutes $name textually', () => {
    const names = DASHBOARD.variables.map((v) => v.name);
    for (const a of names) for (const b of names) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });

  it('Grafana: the sidecar label, and every panel and variable on the datasource variable', () => {
    const configMap = readConfigMap('grafana');
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    const dashboard = readDashboard('grafana');
    expect(dashboard.templating.list[0]).toMatchObject({
      name: 'datasource',
      type: 'datasource',
      query: 'prometheus',
    });
    const datasource = { type: 'prometheus', uid: '${datasource}' };
    for (const panel of dataPanels(dashboard)) {
      expect(panel.datasource).toEqual(datasource);
      for (const target of panel.targets ?? []) expect(target.datasource).toEqual(datasource);
    }
  });

  it('console: openshift-config-managed, the dashboard label, and only panels and units it renders', () => {
    const configMap = readConfigMap('console');
    expect(configMap.metadata.namespace).toBe('openshift-config-managed');
    expect(configMap.metadata.labels).toMatchObject({ 'console.openshift.io/dashboard': 'true' });
    const dashboard = readDashboard('console');
    expect(dashboard.rows?.length).toBe(DASHBOARD.rows.length);
    for (const panel of dataPanels(dashboard)) {
      expect(CONSOLE_PANEL_TYPES).toContain(panel.type);
      expect(panel.span).toBeGreaterThanOrEqual(1);
      expect(panel.span).toBeLessThanOrEqual(12);
      if (panel.type === 'graph') expect(CONSOLE_GRAPH_UNITS).toContain(panel.yaxes?.[0]?.format);
      if (panel.type === 'table') expect(panel.styles?.length).toBeGreaterThan(0);
    }
  });

  it('docs/dashboards.md lists every panel', () => {
    const doc = readFileSync(repoFile('docs/dashboards.md'), 'utf8');
    const missing = DASHBOARD.rows
      .flatMap((row) => row.panels.map((p) => p.title))
      .filter((t) => !doc.includes(t));
    expect(missing).toEqual([]);
  });
});
