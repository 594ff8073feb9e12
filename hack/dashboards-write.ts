// `make dashboards`: writes the Grafana and OpenShift console dashboards generated from hack/dashboards.ts.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONSOLE_PATH, GRAFANA_PATH, renderConsoleConfigMap, renderGrafanaConfigMap } from './dashboards.js';

for (const [path, render] of [
  [GRAFANA_PATH, renderGrafanaConfigMap],
  [CONSOLE_PATH, renderConsoleConfigMap],
] as const) {
  writeFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), render());
  console.log(`wrote ${path}`);
}
