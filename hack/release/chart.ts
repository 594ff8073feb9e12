// `make release`, part two: the Helm chart charts/etcd-health-operator, generated from the same
// kustomize render as dist/install.yaml (deploy/overlays/kubernetes) with Helm expressions put in
// for the release's namespace and names, the labels, image, replicas, resources, flags and the
// optional parts. The hand-written parts (Chart.yaml without its versions, values.yaml whose
// __deploy_...__ defaults are filled from the render, values.schema.json, _helpers.tpl, NOTES.txt)
// live in hack/release/chart/ and are copied. `--check` reports what is stale instead of writing.
//
// With the release named etcd-health-operator in namespace etcd-health-operator and default values,
// the chart makes the objects of dist/install.yaml but the Namespace (Helm's --create-namespace),
// with Helm's labels and three flags more (test/deploy/chart.it.ts compares them).
import * as yaml from 'js-yaml';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  OVERLAY,
  REPO,
  kustomize,
  packageVersion,
  releaseImage,
  renderOverlay,
  runGenerator,
  type GeneratedFile,
} from './install.js';

export const CHART_DIR = 'charts/etcd-health-operator';
const SOURCE_DIR = 'hack/release/chart';
const DASHBOARDS_DIR = 'deploy/dashboards';
/** What deploy/ names the operator and its objects: the prefix the chart replaces with its fullname. */
const NAME = 'etcd-health-operator';
const FULLNAME = 'include "etcd-health-operator.fullname" $';
const RULES_FILE = 'files/prometheus-rules.yaml';

type Yaml = Record<string, unknown>;
interface KubeObject extends Yaml {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string | null> } & Yaml;
}

/**
 * Helm's parts in a YAML tree: each is a unique marker (a plain scalar js-yaml writes as is) that
 * `toText` turns into template text after the dump. A marker is inline (in a string), a whole map
 * entry or list item (lines at the entry's indentation), or an entry's whole value.
 */
class Template {
  private readonly inline = new Map<string, string>();
  private readonly lines = new Map<string, (indent: number) => string>();
  private readonly values = new Map<string, string>();
  private count = 0;

  private marker(): string {
    return `__HELM_${this.count++}__`;
  }

  /** `{{ action }}` inside a scalar. */
  expr(action: string): string {
    const marker = this.marker();
    this.inline.set(marker, `{{ ${action} }}`);
    return marker;
  }

  /** A map key (value null) or list item replaced by `render(indent)`: lines of YAML at that indent. */
  block(render: (indent: number) => string): string {
    const marker = this.marker();
    this.lines.set(marker, render);
    return marker;
  }

  /** A block of `pipeline`'s YAML output at the indentation of the entry or item. */
  include(pipeline: string): string {
    return this.block((indent) => `{{- ${pipeline} | nindent ${indent} }}`);
  }

  /** Map entries from a map value, when it is not empty. */
  entriesOf(value: string): string {
    return this.block((indent) => `{{- with ${value} }}{{ toYaml . | nindent ${indent} }}{{ end }}`);
  }

  /** An entry's whole value: `key: {{- pipeline | nindent }}` one level deeper. */
  value(pipeline: string): string {
    const marker = this.marker();
    this.values.set(marker, pipeline);
    return marker;
  }

  /** Dumps `tree` and replaces the markers. */
  toText(tree: unknown): string {
    const dumped = yaml.dump(tree, { noRefs: true, lineWidth: -1, sortKeys: false });
    const lines = dumped.split('\n').map((line) => {
      const entry = line.match(/^(\s*)(- )?(__HELM_\d+__)(: null)?$/);
      const render = entry && this.lines.get(entry[3]!);
      // A list item's block writes its own `- `; a map entry's starts after the item's `- `.
      if (entry && render) return `${entry[1]}${render(entry[1]!.length + (entry[2] && entry[4] ? 2 : 0))}`;
      const keyed = line.match(/^(\s*)(- )?([^\s].*?): (__HELM_\d+__)$/);
      const pipeline = keyed && this.values.get(keyed[4]!);
      if (keyed && pipeline !== undefined) {
        const indent = keyed[1]!.length + (keyed[2] ? 2 : 0) + 2;
        return `${keyed[1]}${keyed[2] ?? ''}${keyed[3]}: {{- ${pipeline} | nindent ${indent} }}`;
      }
      return line;
    });
    const text = lines.join('\n').replace(/__HELM_\d+__/g, (marker) => {
      const action = this.inline.get(marker);
      if (action === undefined) throw new Error(`chart: marker ${marker} left in a place it cannot be`);
      return action;
    });
    return text.trimEnd() + '\n';
  }
}

/** One document of a template file, with the condition or range around it. */
interface ChartDocument {
  file: string;
  text: string;
}

// Through JSON, not structuredClone: under jest, structuredClone makes objects of another realm,
// which js-yaml refuses to dump.
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const isMap = (value: unknown): value is Yaml =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The template file an object goes to. */
function fileOf(kind: string): string {
  if (['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(kind))
    return 'templates/rbac.yaml';
  if (kind === 'PodDisruptionBudget') return 'templates/pdb.yaml';
  return `templates/${kind.toLowerCase()}.yaml`;
}

/** `{{` and `}}` in deploy's own strings, written so that Helm outputs them as they are. */
function escapeBraces(value: unknown, t: Template): unknown {
  if (typeof value === 'string')
    return value.replace(/\{\{|\}\}/g, (braces) => t.expr(braces === '{{' ? '"{{"' : '"}}"'));
  if (Array.isArray(value)) return value.map((item) => escapeBraces(item, t));
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeBraces(v, t)]));
  return value;
}

/**
 * The labels kustomize put on every labelled object (deploy/base's `labels:`); the chart's helpers
 * replace them, and give them to the objects without labels too.
 */
function commonLabels(objects: KubeObject[]): Record<string, string | null> {
  const [first, ...rest] = objects.flatMap((o) => (o.metadata.labels ? [o.metadata.labels] : []));
  return Object.fromEntries(
    Object.entries(first ?? {}).filter(([key, value]) => rest.every((labels) => labels[key] === value)),
  );
}

/** Keys whose value may be the name of an object deploy/ makes. */
const NAME_KEYS = ['name', 'serviceAccountName', 'secretName'];

interface Context {
  t: Template;
  operatorNamespace: string;
  common: Record<string, string | null>;
}

/**
 * The generic rewrites every object gets: names with deploy's prefix become the release's, the
 * operator's namespace the release's, kustomize's labels and selectors the chart's.
 */
function rewrite(value: unknown, context: Context, key = ''): unknown {
  const { t, operatorNamespace, common } = context;
  if (typeof value === 'string') {
    if (NAME_KEYS.includes(key) && (value === NAME || value.startsWith(`${NAME}-`)))
      return t.expr(FULLNAME) + value.slice(NAME.length);
    if (key === 'namespace' && value === operatorNamespace) return t.expr('$.Release.Namespace');
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => rewrite(item, context, key));
  if (!isMap(value)) return value;
  const labelMap =
    ['labels', 'matchLabels', 'selector'].includes(key) && Object.keys(common).some((k) => k in value);
  const entries = Object.entries(value).filter(([k, v]) => !(labelMap && common[k] === v));
  const rewritten = Object.fromEntries(entries.map(([k, v]) => [k, rewrite(v, context, k)]));
  if (!labelMap) return rewritten;
  const helper = key === 'labels' ? 'labels' : 'selectorLabels';
  return { [t.include(`include "etcd-health-operator.${helper}" $`)]: null, ...rewritten };
}

/** Adds entries from a values map (e.g. additionalLabels) to an object's labels. */
function addLabels(object: KubeObject, values: string, t: Template): void {
  object.metadata.labels = { ...object.metadata.labels, [t.entriesOf(values)]: null };
}

const MANAGED_FLAGS = [
  '--log-level',
  '--leader-elect',
  '--leader-election-id',
  '--namespace',
  '--discovery-namespace',
  '--prometheus-url-allow',
  '--prometheus-sa-token-url',
  '--etcd-endpoint-cidr',
];
const flagOf = (arg: string) => arg.split('=')[0]!;

/** The Deployment: replicas, image, resources and the flags values manage; placement and pod annotations. */
function deployment(object: KubeObject, image: string, t: Template): void {
  const spec = object.spec as Yaml & { template: { metadata: Yaml; spec: Yaml & { containers: Yaml[] } } };
  spec.replicas = t.expr('$.Values.replicaCount');
  const pod = spec.template;
  pod.metadata = { ...pod.metadata, [t.include('include "etcd-health-operator.podAnnotations" $')]: null };
  const container = pod.spec.containers.find((c) => c.image === image);
  if (!container) throw new Error(`chart: the Deployment has no container with the image ${image}`);
  const args = ((container.args as string[] | undefined) ?? []).filter(
    (arg) => !MANAGED_FLAGS.includes(flagOf(arg)),
  );
  const rebuilt: Yaml = {};
  for (const [key, value] of Object.entries(container)) {
    if (key === 'image') {
      rebuilt.image = t.expr('include "etcd-health-operator.image" $ | quote');
      rebuilt.imagePullPolicy = t.expr('$.Values.image.pullPolicy');
    } else if (key === 'args') rebuilt.args = [...args, t.include('include "etcd-health-operator.args" $')];
    else if (key === 'resources') rebuilt.resources = t.value('toYaml $.Values.resources');
    else rebuilt[key] = value;
  }
  pod.spec.containers = pod.spec.containers.map((c) => (c === container ? rebuilt : c));
  pod.spec = { ...pod.spec, [t.include('include "etcd-health-operator.podPlacement" $')]: null };
}

/** deploy's default for values the chart derives from the overlay. */
interface Defaults {
  replicas: number;
  resources: Yaml;
  pdbMinAvailable: number | string;
  namespaces: Record<BindableRole, string[]>;
}

/** ClusterRoles an admin binds per namespace, and the values key naming those namespaces. */
const BINDABLE_ROLES = ['discovery', 'credentials', 'backups'] as const;
type BindableRole = (typeof BINDABLE_ROLES)[number];

const bindableRoleOf = (object: KubeObject): BindableRole | undefined => {
  const roleRef = object.roleRef as { kind?: string; name?: string } | undefined;
  return BINDABLE_ROLES.find((role) => roleRef?.kind === 'ClusterRole' && roleRef.name === `${NAME}-${role}`);
};

interface Chart {
  documents: ChartDocument[];
  crds: KubeObject[];
  rules: unknown;
  defaults: Defaults;
}

/** The chart's templates from the rendered overlay. */
export function chartFromRender(rendered: string, image: string): Chart {
  const objects = (yaml.loadAll(rendered) as Array<KubeObject | null>).filter(
    (o): o is KubeObject => o !== null,
  );
  const namespaceObject = objects.find((o) => o.kind === 'Namespace');
  if (!namespaceObject) throw new Error(`chart: ${OVERLAY} has no Namespace for the operator`);
  const operatorNamespace = namespaceObject.metadata.name;
  const t = new Template();
  const context: Context = { t, operatorNamespace, common: commonLabels(objects) };
  const documents: ChartDocument[] = [];
  const crds: KubeObject[] = [];
  let rules: unknown;
  const namespaces: Record<BindableRole, string[]> = { discovery: [], credentials: [], backups: [] };
  let deploymentObject: KubeObject | undefined;
  let pdbObject: KubeObject | undefined;
  let operatorBinding: KubeObject | undefined;

  /** Adds the object's template, inside `{{- if condition }}` when given. */
  const emit = (object: KubeObject, condition?: string) => {
    const text = `---\n${t.toText(rewrite(escapeBraces(object, t), context))}`;
    documents.push({
      file: fileOf(object.kind),
      text: condition ? `{{- if ${condition} }}\n${text}{{- end }}\n` : text,
    });
  };

  for (const original of objects) {
    const object = clone(original);
    object.metadata.labels ??= { ...context.common };
    const { kind } = object;
    const { name, namespace } = object.metadata;
    if (kind === 'Namespace') continue;
    if (kind === 'CustomResourceDefinition') {
      crds.push(object);
      continue;
    }
    if (namespace !== undefined && namespace !== operatorNamespace) {
      const role = kind === 'RoleBinding' ? bindableRoleOf(object) : undefined;
      if (!role || name !== `${NAME}-${role}`)
        throw new Error(
          `chart: ${OVERLAY} makes ${kind}/${name} in namespace ${namespace}, which no value of the chart covers: teach hack/release/chart.ts`,
        );
      namespaces[role].push(namespace);
      continue;
    }
    if (kind === 'Deployment') {
      deploymentObject = original;
      deployment(object, image, t);
      emit(object);
    } else if (kind === 'PodDisruptionBudget') {
      pdbObject = original;
      (object.spec as Yaml).minAvailable = t.expr('$.Values.podDisruptionBudget.minAvailable');
      emit(object, 'and $.Values.podDisruptionBudget.enabled (gt (int $.Values.replicaCount) 1)');
    } else if (kind === 'NetworkPolicy') emit(object, '$.Values.networkPolicy.enabled');
    else if (kind === 'ServiceMonitor') {
      addLabels(object, '$.Values.serviceMonitor.additionalLabels', t);
      emit(object, '$.Values.serviceMonitor.enabled');
    } else if (kind === 'PrometheusRule') {
      rules = object.spec;
      object.spec = t.value(`$.Files.Get "${RULES_FILE}" | trim`);
      addLabels(object, '$.Values.prometheusRule.additionalLabels', t);
      emit(object, '$.Values.prometheusRule.enabled');
    } else if ((kind === 'Role' || kind === 'RoleBinding') && name === `${NAME}-leader-election`)
      emit(object, '$.Values.leaderElection.enabled');
    else if (kind === 'ClusterRoleBinding' && name === NAME) {
      operatorBinding = original;
      emit(object, 'not $.Values.watchNamespaces');
    } else emit(object);
  }

  if (!deploymentObject) throw new Error(`chart: ${OVERLAY} has no Deployment`);
  if (!pdbObject) throw new Error(`chart: ${OVERLAY} has no PodDisruptionBudget`);
  if (!operatorBinding) throw new Error(`chart: ${OVERLAY} has no ClusterRoleBinding ${NAME}`);
  // With --namespace, the operator's ClusterRole is bound in each watched namespace only.
  const scoped = clone(operatorBinding);
  scoped.kind = 'RoleBinding';
  scoped.metadata.namespace = '__NAMESPACE__';
  emitRanged(scoped, '$.Values.watchNamespaces');
  // The ClusterRoles an admin binds per namespace, in the namespaces values name.
  const serviceAccount = (operatorBinding.subjects as Yaml[])[0];
  for (const role of BINDABLE_ROLES) {
    const binding: KubeObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${NAME}-${role}`, namespace: '__NAMESPACE__', labels: context.common },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${NAME}-${role}` },
      subjects: [serviceAccount],
    };
    emitRanged(binding, `$.Values.${role}.namespaces`);
  }

  function emitRanged(object: KubeObject, list: string) {
    const text = `---\n${t.toText(rewrite(object, context))}`.replace('__NAMESPACE__', '{{ $namespace }}');
    documents.push({
      file: fileOf(object.kind),
      text: `{{- range $namespace := ${list} }}\n${text}{{- end }}\n`,
    });
  }

  const container = (
    deploymentObject.spec as {
      template: { spec: { containers: Array<{ image?: string; args?: string[]; resources?: Yaml }> } };
    }
  ).template.spec.containers.find((c) => c.image === image);
  const discoveryFlags = (container?.args ?? [])
    .filter((arg) => flagOf(arg) === '--discovery-namespace')
    .map((arg) => arg.slice(arg.indexOf('=') + 1));
  if (discoveryFlags.sort().join(',') !== [...namespaces.discovery].sort().join(','))
    throw new Error(
      `chart: ${OVERLAY} allows discovery in [${discoveryFlags.join(', ')}] but binds the discovery ClusterRole in [${namespaces.discovery.join(', ')}]; the chart ties both to discovery.namespaces`,
    );
  return {
    documents,
    crds,
    rules,
    defaults: {
      replicas: Number((deploymentObject.spec as Yaml).replicas ?? 1),
      resources: container?.resources ?? {},
      pdbMinAvailable: (pdbObject.spec as { minAvailable?: number | string }).minAvailable ?? 1,
      namespaces,
    },
  };
}

/** values.yaml: hack/release/chart/values.yaml with its __deploy_...__ placeholders filled in. */
function valuesYaml(source: string, defaults: Defaults, image: string): string {
  const separator = image.lastIndexOf(':');
  const tag = image.slice(separator + 1);
  const filled: Record<string, unknown> = {
    image_repository: image.slice(0, separator),
    image_tag: tag === packageVersion() ? '' : tag,
    replicas: defaults.replicas,
    resources: defaults.resources,
    pdb_min_available: defaults.pdbMinAvailable,
    discovery_namespaces: defaults.namespaces.discovery,
    credentials_namespaces: defaults.namespaces.credentials,
    backups_namespaces: defaults.namespaces.backups,
  };
  const used = new Set<string>();
  const text = source.replace(
    /^(\s*)([\w.]+): __deploy_(\w+)__$/gm,
    (_line, indent: string, key: string, name: string) => {
      if (!(name in filled))
        throw new Error(`chart: ${SOURCE_DIR}/values.yaml: no default named __deploy_${name}__`);
      used.add(name);
      const dumped = yaml
        .dump({ [key]: filled[name] }, { flowLevel: isMap(filled[name]) ? -1 : 1 })
        .trimEnd();
      return dumped
        .split('\n')
        .map((line) => indent + line)
        .join('\n');
    },
  );
  const unused = Object.keys(filled).filter((name) => !used.has(name));
  if (unused.length > 0)
    throw new Error(`chart: ${SOURCE_DIR}/values.yaml lacks __deploy_${unused.join('__, __deploy_')}__`);
  return text;
}

/** The dashboards' ConfigMaps under deploy/dashboards (its kustomization's render, else its YAML files). */
async function dashboardConfigMaps(dir: string, signal?: AbortSignal): Promise<KubeObject[]> {
  if (!existsSync(dir)) return [];
  const documents = existsSync(join(dir, 'kustomization.yaml'))
    ? yaml.loadAll(await kustomize(dir, signal))
    : readdirSync(dir)
        .filter((file) => /\.ya?ml$/.test(file))
        .sort()
        .flatMap((file) => yaml.loadAll(readFileSync(join(dir, file), 'utf8')));
  return (documents as Array<KubeObject | null>).filter((o): o is KubeObject => o?.kind === 'ConfigMap');
}

/**
 * Every ConfigMap copied under files/dashboards/ becomes one, with the chart's labels: Grafana's in
 * the release's namespace; the OpenShift console's (labelled console.openshift.io/dashboard) in its
 * own namespace, only where the cluster serves the console's API.
 */
const DASHBOARDS_TEMPLATE = `{{- if $.Values.dashboards.enabled }}
{{- range $path, $_ := $.Files.Glob "files/dashboards/*.yaml" }}
{{- $configMap := $.Files.Get $path | fromYaml }}
{{- $labels := $configMap.metadata.labels | default dict }}
{{- $console := hasKey $labels "console.openshift.io/dashboard" }}
{{- if or (not $console) ($.Capabilities.APIVersions.Has "console.openshift.io/v1") }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $configMap.metadata.name }}
  namespace: {{ ternary $configMap.metadata.namespace $.Release.Namespace (and $console (hasKey $configMap.metadata "namespace")) }}
  labels:
    {{- include "etcd-health-operator.labels" $ | fromYaml | merge (deepCopy $.Values.dashboards.additionalLabels) $labels | toYaml | nindent 4 }}
  {{- with $configMap.metadata.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
data:
  {{- toYaml $configMap.data | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}
`;

const GENERATED_HEADER = `# Generated by \`make release\` (hack/release/chart.ts) from ${OVERLAY}. Do not edit.\n`;

export interface ChartSources {
  /** deploy/dashboards by default; a test points it elsewhere. */
  dashboardsDir?: string;
  signal?: AbortSignal;
}

/** Every file of charts/etcd-health-operator. */
export async function renderChart(
  image = releaseImage(),
  sources: ChartSources = {},
): Promise<GeneratedFile[]> {
  const { signal } = sources;
  const chart = chartFromRender(await renderOverlay(image, signal), image);
  const source = (path: string) => readFileSync(join(REPO, SOURCE_DIR, path), 'utf8');
  const version = packageVersion();
  const files: GeneratedFile[] = [
    { path: 'Chart.yaml', content: `${source('Chart.yaml')}version: ${version}\nappVersion: '${version}'\n` },
    { path: 'values.yaml', content: valuesYaml(source('values.yaml'), chart.defaults, image) },
    { path: 'values.schema.json', content: source('values.schema.json') },
    { path: 'templates/_helpers.tpl', content: source('templates/_helpers.tpl') },
    { path: 'templates/NOTES.txt', content: source('templates/NOTES.txt') },
    { path: RULES_FILE, content: yaml.dump(chart.rules, { noRefs: true, lineWidth: -1 }) },
    { path: 'templates/dashboards.yaml', content: DASHBOARDS_TEMPLATE },
  ];
  for (const crd of chart.crds)
    files.push({
      path: `crds/${crd.metadata.name}.yaml`,
      content: GENERATED_HEADER + yaml.dump(crd, { noRefs: true, lineWidth: 120 }),
    });
  const byFile = new Map<string, string[]>();
  for (const document of chart.documents)
    byFile.set(document.file, [...(byFile.get(document.file) ?? []), document.text]);
  for (const [path, texts] of byFile) files.push({ path, content: GENERATED_HEADER + texts.join('') });
  for (const configMap of await dashboardConfigMaps(
    sources.dashboardsDir ?? join(REPO, DASHBOARDS_DIR),
    signal,
  ))
    files.push({
      // Grafana's and the console's may share a name, in their own namespaces.
      path: `files/dashboards/${configMap.metadata.namespace ?? 'release'}_${configMap.metadata.name}.yaml`,
      content: yaml.dump(configMap, { noRefs: true, lineWidth: -1 }),
    });
  return files
    .map((file) => ({ path: join(CHART_DIR, file.path), content: file.content }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runGenerator('hack/release/chart.ts', process.argv.slice(2), (image) => renderChart(image), [
    CHART_DIR,
  ]).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`hack/release/chart.ts: ${error.message}`);
      process.exit(2);
    },
  );
}
