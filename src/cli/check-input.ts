// From the parsed flags to a validated spec and the TLS material the sources need: reads the CR
// file and the TLS/token files, applies the flags over the file, validates with the same zod schema
// the operator uses, and turns every failure into a message that names what failed and how to fix
// it. Files are read through `CheckFiles`, so tests can pass a map instead of a filesystem.
import { readFileSync } from 'node:fs';
import { loadAllYaml } from '@kubernetes/client-node';
import type { z } from 'zod';
import { API_VERSION, KIND } from '../api/v1alpha1/resource.js';
import {
  EtcdHealthCheckSpecSchema,
  LABEL_MATCHER_PATTERN,
  type EtcdHealthCheckSpec,
} from '../api/v1alpha1/spec.js';
import { DURATION_PATTERN, SIZE_PATTERN, parseDurationMs } from '../api/v1alpha1/units.js';
import { plural } from '../health/text.js';
import { metricsUrl, type SampleSourceOptions } from '../sources/metrics/source.js';
import type { ResolvedInputs } from '../sources/options.js';
import type { CheckArgs, SpecOverride } from './check-args.js';

export interface CheckFiles {
  /** Throws a Node.js error (with `code`) when the file cannot be read. */
  read(path: string): string;
  readStdin(): string;
}

export const nodeFiles: CheckFiles = {
  read: (path) => readFileSync(path, 'utf8'),
  readStdin: () => readFileSync(0, 'utf8'),
};

export interface CheckInput {
  /** The spec as given (defaults applied): what the report and JSON output describe. */
  spec: EtcdHealthCheckSpec;
  /** The spec the analysis runs with: no degraded inertia, because a one-shot check has no history. */
  analysisSpec: EtcdHealthCheckSpec;
  resolved: ResolvedInputs;
  /** Without Prometheus: the two samples of every member's /metrics to take instead. */
  sample?: SampleSourceOptions;
  /** "flags", or the file and the object's namespace/name. */
  origin: string;
  /** Things the user should know that do not stop the check (stderr). */
  notes: string[];
}

export type CheckInputResult = { ok: true; input: CheckInput } | { ok: false; error: string };

type Json = Record<string, unknown>;

export function buildCheckInput(args: CheckArgs, files: CheckFiles = nodeFiles): CheckInputResult {
  const notes: string[] = [];
  let base: Json = {};
  let namespace: string | undefined;
  let object: string | undefined;
  if (args.file !== undefined) {
    const loaded = loadManifest(args.file, args.name, files);
    if (!loaded.ok) return loaded;
    base = loaded.spec;
    namespace = loaded.namespace;
    object = `${KIND} ${loaded.namespace ? `${loaded.namespace}/` : ''}${loaded.name} from ${args.file === '-' ? 'stdin' : args.file}`;
  }
  const environmentEndpoints = usesEnvironmentEndpoints(base, args);
  const endpointsFrom =
    args.endpoints.length > 0 ? '--endpoints' : environmentEndpoints ? 'ETCDCTL_ENDPOINTS' : undefined;
  const endpointCount = (environmentEndpoints ? args.environment.endpoints : args.endpoints).length;
  const origin =
    object === undefined
      ? `${plural(endpointCount, 'endpoint')} from ${endpointsFrom}`
      : `${object}${endpointsFrom ? ` with ${endpointsFrom}` : ''}`;
  if (object !== undefined && endpointsFrom === undefined && args.environment.endpoints.length > 0) {
    notes.push(
      `ETCDCTL_ENDPOINTS is not used: the file names the etcd members, and the file wins over the environment (--endpoints wins over both)`,
    );
  }

  const flagged = applyFlags(base, args);
  if (typeof flagged === 'string') return { ok: false, error: flagged };
  const validated = validateSpec(flagged, args.overrides);
  if (!validated.ok) return validated;
  const spec = validated.spec;

  const refs = clusterOnlyReferences(spec, args, namespace ?? '<namespace>');
  if (refs.length > 0) return { ok: false, error: refs.join('\n\n') };

  const tls = readTlsFiles(args, files);
  if (!tls.ok) return tls;

  const endpoints = spec.etcd.endpoints ?? [];
  const secure = endpoints.filter((endpoint) => endpoint.startsWith('https://'));
  if (args.cacert !== undefined && secure.length === 0) {
    const named =
      args.tlsOrigin.cacert === 'ETCDCTL_CACERT'
        ? 'ETCDCTL_CACERT, ETCDCTL_CERT and ETCDCTL_KEY are'
        : '--cacert, --cert and --key are';
    notes.push(`${named} used only for https:// endpoints; every endpoint here is http://`);
  }
  if (secure.length > 0 && args.cacert === undefined) {
    notes.push(
      "https:// endpoints without --cacert: the members' certificates are verified against the system CA bundle, and no client certificate is sent",
    );
  }
  if (spec.suspend)
    notes.push('spec.suspend is true: the operator skips this EtcdHealthCheck; check runs it anyway');
  if (spec.remediation.mode === 'Automatic') {
    notes.push(
      'spec.remediation.mode is Automatic: check only recommends, it never changes anything in etcd',
    );
  }

  const sample = sampleOptions(spec, args, tls.resolved);
  if (spec.prometheus && (args.sampleWindow !== undefined || args.metricsUrls.length > 0)) {
    notes.push(
      '--sample-window and --metrics-urls are not used: Prometheus is configured, and its history wins over two samples',
    );
  }

  const analysisSpec: EtcdHealthCheckSpec = {
    ...spec,
    thresholds: { ...spec.thresholds, degradedInertia: '0s' },
  };
  return {
    ok: true,
    input: { spec, analysisSpec, resolved: tls.resolved, ...(sample && { sample }), origin, notes },
  };
}

// Long enough for an fsync-bound member's histograms to move at the rate of a quiet cluster
// (its leases and Events), short enough to wait for.
const DEFAULT_SAMPLE_WINDOW = '15s';

/** Without Prometheus, each member's /metrics (or --metrics-urls), one command timeout per scrape. */
function sampleOptions(
  spec: EtcdHealthCheckSpec,
  args: CheckArgs,
  resolved: ResolvedInputs,
): SampleSourceOptions | undefined {
  const windowMs = parseDurationMs(args.sampleWindow ?? DEFAULT_SAMPLE_WINDOW);
  if (spec.prometheus || windowMs === 0) return undefined;
  const urls = args.metricsUrls.length > 0 ? args.metricsUrls : (spec.etcd.endpoints ?? []);
  return {
    urls: urls.map(metricsUrl),
    windowMs,
    tls: resolved.etcdTls,
    timeoutMs: parseDurationMs(spec.etcd.requestTimeout),
  };
}

interface LoadedManifest {
  ok: true;
  spec: Json;
  name: string;
  namespace?: string;
}

export function loadManifest(
  path: string,
  name: string | undefined,
  files: CheckFiles,
): LoadedManifest | { ok: false; error: string } {
  const where = path === '-' ? 'stdin' : path;
  let text: string;
  try {
    text = path === '-' ? files.readStdin() : files.read(path);
  } catch (error) {
    return { ok: false, error: `-f ${where}: cannot read the file: ${fileError(error)}` };
  }
  const documents: unknown[] = [];
  const chunks = yamlDocuments(text);
  for (const [index, chunk] of chunks.entries()) {
    try {
      documents.push(...(loadAllYaml(chunk) as unknown[]));
    } catch (error) {
      const which = chunks.length > 1 ? ` (document ${index + 1})` : '';
      return {
        ok: false,
        error: `-f ${where}: not valid YAML or JSON${which}: ${(error as Error).message.split('\n')[0]}`,
      };
    }
  }
  const objects = documents.filter(isObject);
  const checks = objects.filter((object) => object.kind === KIND);
  if (checks.length === 0) {
    const kinds = objects.map((object) => (typeof object.kind === 'string' ? object.kind : '<no kind>'));
    return {
      ok: false,
      error: `-f ${where}: no ${KIND} in the file${kinds.length > 0 ? ` (found ${kinds.join(', ')})` : ''}; see deploy/samples/ for examples`,
    };
  }
  const nameOf = (object: Json) => {
    const name = isObject(object.metadata) ? object.metadata.name : undefined;
    return typeof name === 'string' && name !== '' ? name : '<no name>';
  };
  let chosen: Json;
  if (name !== undefined) {
    const named = checks.find((object) => nameOf(object) === name);
    if (!named) {
      return {
        ok: false,
        error: `-f ${where}: no ${KIND} named ${JSON.stringify(name)}; the file has ${checks.map(nameOf).join(', ')}`,
      };
    }
    chosen = named;
  } else if (checks.length > 1) {
    return {
      ok: false,
      error: `-f ${where}: the file has ${checks.length} ${KIND} objects (${checks.map(nameOf).join(', ')}): pick one with --name`,
    };
  } else {
    chosen = checks[0]!;
  }
  if (chosen.apiVersion !== API_VERSION) {
    return {
      ok: false,
      error: `-f ${where}: apiVersion ${JSON.stringify(chosen.apiVersion)} is not supported; this version of check reads ${API_VERSION}`,
    };
  }
  const spec = chosen.spec ?? {};
  if (!isObject(spec)) return { ok: false, error: `-f ${where}: spec must be an object` };
  const metadata = isObject(chosen.metadata) ? chosen.metadata : {};
  return {
    ok: true,
    spec: structuredClone(spec),
    name: nameOf(chosen),
    namespace: typeof metadata.namespace === 'string' ? metadata.namespace : undefined,
  };
}

/**
 * The documents of a YAML stream, split as kubectl splits them (on "---" lines), without the
 * empty ones: client-node's loadAllYaml fails on an empty document, which a trailing "---" makes.
 */
export function yamlDocuments(text: string): string[] {
  return text
    .split(/^---[ \t]*(?:#.*)?$/m)
    .filter((chunk) => chunk.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#')));
}

/**
 * ETCDCTL_ENDPOINTS stands in for --endpoints only when the file names no members: a file names
 * its cluster, and a variable left in a shell must not point the check at another one.
 */
function usesEnvironmentEndpoints(base: Json, args: CheckArgs): boolean {
  const etcd = isObject(base.etcd) ? base.etcd : {};
  return (
    args.endpoints.length === 0 &&
    args.environment.endpoints.length > 0 &&
    etcd.endpoints === undefined &&
    etcd.discovery === undefined
  );
}

/**
 * Flags over the file, the file over etcdctl's variables: --endpoints replaces the file's
 * endpoints or discovery, ETCDCTL_DIAL_TIMEOUT fills in a dial timeout the file does not set, ...
 */
function applyFlags(base: Json, args: CheckArgs): Json | string {
  const spec = structuredClone(base);
  if (args.endpoints.length > 0) {
    const etcd = isObject(spec.etcd) ? spec.etcd : {};
    delete etcd.discovery;
    spec.etcd = { ...etcd, endpoints: args.endpoints };
  } else if (usesEnvironmentEndpoints(base, args)) {
    spec.etcd = { ...(isObject(spec.etcd) ? spec.etcd : {}), endpoints: args.environment.endpoints };
  }
  // Before the overrides, so that --dial-timeout, --command-timeout and --set still win.
  const etcd = isObject(spec.etcd) ? spec.etcd : undefined;
  if (etcd && etcd.dialTimeout === undefined && args.environment.dialTimeout !== undefined)
    etcd.dialTimeout = args.environment.dialTimeout;
  if (etcd && etcd.requestTimeout === undefined && args.environment.commandTimeout !== undefined)
    etcd.requestTimeout = args.environment.commandTimeout;
  const needsPrometheus = (flag: string) =>
    `${flag} needs a Prometheus: pass --prometheus URL (or set spec.prometheus.url in the file)`;
  if (args.prometheus !== undefined) {
    spec.prometheus = { ...(isObject(spec.prometheus) ? spec.prometheus : {}), url: args.prometheus };
  }
  const prometheus = isObject(spec.prometheus) ? spec.prometheus : undefined;
  if (args.labelMatchers.length > 0) {
    if (!prometheus) return needsPrometheus('--label-matcher');
    prometheus.labelMatchers = args.labelMatchers;
  }
  if (args.rateWindow !== undefined) {
    if (!prometheus) return needsPrometheus('--rate-window');
    prometheus.rateWindow = args.rateWindow;
  }
  if (args.prometheusInsecureSkipTlsVerify) {
    if (!prometheus) return needsPrometheus('--prometheus-insecure-skip-tls-verify');
    prometheus.insecureSkipTLSVerify = true;
  }
  for (const flag of ['prometheusCacert', 'prometheusTokenFile'] as const) {
    if (args[flag] !== undefined && !prometheus) {
      return needsPrometheus(flag === 'prometheusCacert' ? '--prometheus-cacert' : '--prometheus-token-file');
    }
  }
  for (const override of args.overrides) {
    const applied = setPath(spec, override.path, inferValue(override.value));
    if (applied !== undefined) return `${override.flag}: ${applied}`;
  }
  return spec;
}

/** helm's --set typing: numbers and booleans are typed, [..] and {..} are JSON, the rest is text. */
export function inferValue(text: string): unknown {
  if (/^-?[0-9]+(\.[0-9]+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function setPath(target: Json, path: readonly string[], value: unknown): string | undefined {
  let node = target;
  for (const [index, part] of path.slice(0, -1).entries()) {
    const next = node[part];
    if (next === undefined) node[part] = {};
    else if (!isObject(next)) return `${path.slice(0, index + 1).join('.')} is not an object`;
    node = node[part] as Json;
  }
  node[path[path.length - 1]!] = value;
  return undefined;
}

function validateSpec(
  input: Json,
  overrides: readonly SpecOverride[],
): { ok: true; spec: EtcdHealthCheckSpec } | { ok: false; error: string } {
  let candidate = input;
  let result = EtcdHealthCheckSpecSchema.safeParse(candidate);
  if (!result.success) {
    // `--set thresholds.databaseSize.warning=1024` is typed as a number, but the field is a
    // string: where the schema asks for a string at an overridden path, retry with the raw text.
    const retyped = structuredClone(candidate);
    let changed = false;
    for (const issue of result.error.issues) {
      if (issue.code !== 'invalid_type' || issue.expected !== 'string') continue;
      const override = [...overrides].reverse().find((o) => samePath(o.path, issue.path));
      if (override && typeof inferValue(override.value) !== 'string') {
        setPath(retyped, override.path, override.value);
        changed = true;
      }
    }
    if (changed) {
      candidate = retyped;
      result = EtcdHealthCheckSpecSchema.safeParse(candidate);
    }
  }
  if (result.success) return { ok: true, spec: result.data };
  const lines = result.error.issues.map((issue) => `  ${describeIssue(issue, candidate)}`);
  return {
    ok: false,
    error: `invalid EtcdHealthCheck spec (${plural(lines.length, 'problem')}):\n${lines.join('\n')}`,
  };
}

function samePath(a: readonly string[], b: readonly PropertyKey[]): boolean {
  return a.length === b.length && a.every((part, index) => part === String(b[index]));
}

const PATTERN_HINTS: [pattern: string, hint: string][] = [
  [DURATION_PATTERN, 'a duration such as 500ms, 10s, 1m30s or 2h'],
  [SIZE_PATTERN, 'a size such as 100Mi, 4Gi or 8G'],
  ['^https?:\\/\\/[^\\s/]+$', 'scheme://host:port without a path, e.g. https://10.0.0.11:2379'],
  ['^https?:\\/\\/[^\\s]+$', 'an http:// or https:// URL'],
  [LABEL_MATCHER_PATTERN, 'a PromQL label matcher such as job="etcd"'],
];

/** "spec.etcd.endpoints[0]: must be scheme://host:port ... (got "10.0.0.1")". */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = `spec${issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('')}`;
  const value = valueAt(input, issue.path);
  // Only scalars: a refinement of the whole spec would print the whole spec.
  const got =
    value === undefined || (typeof value === 'object' && value !== null)
      ? ''
      : ` (got ${JSON.stringify(value)})`;
  switch (issue.code) {
    case 'invalid_format': {
      const pattern = 'pattern' in issue && typeof issue.pattern === 'string' ? issue.pattern : undefined;
      // zod reports the pattern as the RegExp's text, "/^...$/".
      const hint = PATTERN_HINTS.find(
        ([known]) => pattern !== undefined && (pattern === known || pattern === String(new RegExp(known))),
      )?.[1];
      return `${where}: ${hint ? `must be ${hint}` : issue.message}${got}`;
    }
    case 'unrecognized_keys':
      return `${where}: unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}; see docs/api-reference.md`;
    case 'invalid_type':
      if (value === undefined && where === 'spec.etcd')
        return `${where}: required: pass the client URLs with --endpoints, or set spec.etcd.endpoints`;
      return value === undefined
        ? `${where}: required (${issue.expected})`
        : `${where}: must be ${article(issue.expected)}${got}`;
    default:
      return `${where}: ${issue.message}${got}`;
  }
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

/**
 * Secret and ConfigMap references and pod discovery need the Kubernetes API, which check does
 * not use: each one needs its flag, and the message says how to get the file.
 */
function clusterOnlyReferences(spec: EtcdHealthCheckSpec, args: CheckArgs, namespace: string): string[] {
  const problems: string[] = [];
  const { etcd, prometheus } = spec;
  const extract = (kind: 'secret' | 'configmap', name: string, key: string, file: string) =>
    `kubectl -n ${namespace} get ${kind} ${name} -o jsonpath='{.data.${key.replace(/\./g, '\\.')}}'${kind === 'secret' ? ' | base64 -d' : ''} > ${file}`;
  if (etcd.discovery) {
    problems.push(
      `spec.etcd.discovery finds the members through the Kubernetes API, which check does not use.\n` +
        `  Fix: pass the client URLs with --endpoints, e.g. from\n` +
        `    kubectl -n ${etcd.discovery.namespace} get pods -l ${etcd.discovery.labelSelector} -o wide`,
    );
  }
  if (etcd.tlsSecretRef && args.cert === undefined) {
    const secret = etcd.tlsSecretRef.name;
    problems.push(
      `spec.etcd.tlsSecretRef names Secret ${JSON.stringify(secret)}, which check cannot read without a cluster.\n` +
        `  Fix: pass the files with --cacert ca.crt --cert tls.crt --key tls.key, e.g. from\n` +
        [
          ...(etcd.caConfigMapRef ? [] : [extract('secret', secret, 'ca.crt', 'ca.crt')]),
          extract('secret', secret, 'tls.crt', 'tls.crt'),
          extract('secret', secret, 'tls.key', 'tls.key'),
        ]
          .map((line) => `    ${line}`)
          .join('\n'),
    );
  }
  if (etcd.caConfigMapRef && args.cacert === undefined) {
    const ref = etcd.caConfigMapRef;
    problems.push(
      `spec.etcd.caConfigMapRef names ConfigMap ${JSON.stringify(ref.name)}, which check cannot read without a cluster.\n` +
        `  Fix: pass the CA bundle with --cacert ca.crt, e.g. from\n` +
        `    ${extract('configmap', ref.name, ref.key ?? 'ca-bundle.crt', 'ca.crt')}`,
    );
  }
  if (prometheus?.bearerTokenSecretRef && args.prometheusTokenFile === undefined) {
    const ref = prometheus.bearerTokenSecretRef;
    problems.push(
      `spec.prometheus.bearerTokenSecretRef names Secret ${JSON.stringify(ref.name)}, which check cannot read without a cluster.\n` +
        `  Fix: pass the token with --prometheus-token-file token, e.g. from\n` +
        `    ${extract('secret', ref.name, ref.key ?? 'token', 'token')}`,
    );
  }
  if (prometheus?.useOperatorServiceAccount && args.prometheusTokenFile === undefined) {
    problems.push(
      `spec.prometheus.useOperatorServiceAccount sends the operator's ServiceAccount token, which check does not have.\n` +
        `  Fix: pass a token with --prometheus-token-file FILE, e.g. from\n` +
        `    kubectl -n ${namespace} create token <serviceaccount> > token`,
    );
  }
  const promCa = prometheus?.caSecretRef ?? prometheus?.caConfigMapRef;
  if (prometheus && promCa && args.prometheusCacert === undefined) {
    const kind = prometheus.caSecretRef ? 'secret' : 'configmap';
    problems.push(
      `spec.prometheus.${prometheus.caSecretRef ? 'caSecretRef' : 'caConfigMapRef'} names ${kind === 'secret' ? 'Secret' : 'ConfigMap'} ${JSON.stringify(promCa.name)}, which check cannot read without a cluster.\n` +
        `  Fix: pass the CA bundle with --prometheus-cacert ca.crt, e.g. from\n` +
        `    ${extract(kind, promCa.name, promCa.key ?? 'ca.crt', 'ca.crt')}`,
    );
  }
  return problems;
}

function readTlsFiles(
  args: CheckArgs,
  files: CheckFiles,
): { ok: true; resolved: ResolvedInputs } | { ok: false; error: string } {
  const errors: string[] = [];
  const pem = (flag: string, path: string | undefined, what: string): string | undefined => {
    if (path === undefined) return undefined;
    let text: string;
    try {
      text = files.read(path);
    } catch (error) {
      errors.push(`${flag} ${path}: cannot read the file: ${fileError(error)}`);
      return undefined;
    }
    if (!/-----BEGIN [A-Z ]+-----/.test(text)) {
      errors.push(`${flag} ${path}: not a PEM file (expected ${what} starting with "-----BEGIN")`);
      return undefined;
    }
    return text;
  };
  const caPem = pem(args.tlsOrigin.cacert, args.cacert, 'a CA certificate');
  const certPem = pem(args.tlsOrigin.cert, args.cert, 'a certificate');
  const keyPem = pem(args.tlsOrigin.key, args.key, 'a private key');
  const prometheusCa = pem('--prometheus-cacert', args.prometheusCacert, 'a CA certificate');
  let bearerToken: string | undefined;
  if (args.prometheusTokenFile !== undefined) {
    try {
      bearerToken = files.read(args.prometheusTokenFile).trim();
      if (bearerToken === '')
        errors.push(`--prometheus-token-file ${args.prometheusTokenFile}: the file is empty`);
    } catch (error) {
      errors.push(
        `--prometheus-token-file ${args.prometheusTokenFile}: cannot read the file: ${fileError(error)}`,
      );
    }
  }
  if (errors.length > 0) return { ok: false, error: errors.join('\n') };
  const resolved: ResolvedInputs = {};
  if (caPem !== undefined) resolved.etcdTls = { caPem, certPem, keyPem };
  if (bearerToken !== undefined || prometheusCa !== undefined) {
    resolved.prometheus = { bearerToken, caPem: prometheusCa };
  }
  return { ok: true, resolved };
}

/** "no such file or directory" rather than "ENOENT: no such file or directory, open 'x'". */
function fileError(error: unknown): string {
  const failure = error as NodeJS.ErrnoException;
  const known: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'it is a directory',
  };
  return (failure.code && known[failure.code]) ?? failure.message ?? String(error);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
