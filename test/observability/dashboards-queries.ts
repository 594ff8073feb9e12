// Reads the committed dashboard ConfigMaps the way Grafana and the OpenShift console read them:
// every panel's PromQL, and the variables with their label_values queries.
import * as yaml from 'js-yaml';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONSOLE_PATH, DASHBOARD_KEY, GRAFANA_PATH } from '../../hack/dashboards.js';

export const DASHBOARD_FILES = { grafana: GRAFANA_PATH, console: CONSOLE_PATH } as const;
export type DashboardFlavour = keyof typeof DASHBOARD_FILES;

export interface PanelJson {
  id: number;
  type: string;
  title: string;
  span?: number;
  datasource?: unknown;
  targets?: { refId: string; expr: string; datasource?: unknown }[];
  panels?: PanelJson[];
  yaxes?: { format: string }[];
  styles?: unknown[];
}

export interface DashboardJson {
  title: string;
  panels?: PanelJson[];
  rows?: { title: string; panels: PanelJson[] }[];
  templating: { list: { name: string; type: string; query: string; includeAll?: boolean }[] };
}

export interface ConfigMapJson {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  data: Record<string, string>;
}

export const repoFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export function readConfigMap(flavour: DashboardFlavour): ConfigMapJson {
  return yaml.load(readFileSync(repoFile(DASHBOARD_FILES[flavour]), 'utf8')) as ConfigMapJson;
}

export function readDashboard(flavour: DashboardFlavour): DashboardJson {
  return JSON.parse(readConfigMap(flavour).data[DASHBOARD_KEY]!) as DashboardJson;
}

/** The panels that show data (not rows), in order: Grafana's top level and row panels, or the console's rows. */
export function dataPanels(dashboard: DashboardJson): PanelJson[] {
  const top = dashboard.rows ? dashboard.rows.flatMap((row) => row.panels) : (dashboard.panels ?? []);
  return top.flatMap((panel) => (panel.type === 'row' ? (panel.panels ?? []) : [panel]));
}

export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
}

export function panelQueries(dashboard: DashboardJson): PanelQuery[] {
  return dataPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, refId: target.refId, expr: target.expr })),
  );
}

/** The query variables as PromQL, rewritten as the console does: label_values(X, Y) -> count(X) by (Y). */
export function variableQueries(dashboard: DashboardJson): { name: string; promql: string; label: string }[] {
  return dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const match = /^label_values\((.*), (.*)\)$/.exec(v.query);
      if (!match) throw new Error(`variable ${v.name}: ${v.query} is not label_values(selector, label)`);
      return { name: v.name, promql: `count(${match[1]}) by (${match[2]})`, label: match[2]! };
    });
}

/** Replaces every $variable; throws on one without a value, so that no query runs half-substituted. */
export function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, plain?: string) => {
    const value = values[(braced ?? plain)!];
    if (value === undefined) throw new Error(`no value for ${whole} in ${expr}`);
    return value;
  });
}
