// Builds the CustomResourceDefinition from the zod schemas, so the CRD, the types and the runtime
// validation cannot drift apart. hack/generate-crd.ts writes it to crds/; a test compares.
import { z } from 'zod';
import { EtcdHealthCheckSpecSchema } from './spec.js';
import { EtcdHealthCheckStatusSchema } from './status.js';
import { CATEGORIES, GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION } from './resource.js';

type JsonSchema = Record<string, unknown>;

/** JSON Schema (draft 2020-12, as zod emits it) -> a Kubernetes structural OpenAPI v3 schema. */
export function toStructural(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toStructural);
  if (schema === null || typeof schema !== 'object') return schema;
  const intOrString = intOrStringSchema(schema as JsonSchema);
  // Its anyOf stays exactly as the apiserver wants it (no format on the integer).
  if (intOrString)
    return {
      ...(toStructural({ ...intOrString, anyOf: undefined }) as JsonSchema),
      anyOf: intOrString.anyOf,
    };
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema as JsonSchema)) {
    // Structural schemas forbid additionalProperties: false (unknown fields are pruned instead),
    // and have no propertyNames; zod's int bounds are JavaScript's safe-integer limits.
    if (key === '$schema' || key === 'propertyNames') continue;
    if (key === 'additionalProperties' && value === false) continue;
    // The API server stores no empty properties map (omitempty): an object without fields, such as
    // spec.backup.openshift, is served without it, and a CRD that keeps it conflicts on apply.
    if (key === 'properties' && Object.keys(value as JsonSchema).length === 0) continue;
    if ((key === 'maximum' || key === 'minimum') && Math.abs(value as number) === Number.MAX_SAFE_INTEGER)
      continue;
    out[key] = key === 'default' || key === 'enum' ? value : toStructural(value);
  }
  if (out.type === 'integer') out.format = 'int64';
  return out;
}

/**
 * zod's `anyOf: [{type: integer, ...}, {type: string, ...}]` (a size) -> Kubernetes' int-or-string,
 * as controller-gen writes resource.Quantity: the apiserver accepts the anyOf only as exactly
 * `[{type: integer}, {type: string}]`, so each branch's validations move up beside it; there
 * `minimum` and `maximum` judge only integers, `pattern` and `maxLength` only strings.
 */
function intOrStringSchema(schema: JsonSchema): JsonSchema | undefined {
  const branches = schema.anyOf;
  if (!Array.isArray(branches) || branches.length !== 2) return undefined;
  const [integer, string] = branches as JsonSchema[];
  if (integer?.type !== 'integer' || string?.type !== 'string') return undefined;
  const { anyOf: _branches, ...rest } = schema;
  const { type: _integer, ...integerRules } = integer;
  const { type: _string, ...stringRules } = string;
  return {
    ...rest,
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    ...integerRules,
    ...stringRules,
  };
}

function openApi(schema: z.ZodType): JsonSchema {
  return expandDefaults(
    toStructural(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' })) as JsonSchema,
  );
}

/** `value` with the defaults of `schema`'s properties filled in, top-down, as the apiserver does. */
function withNestedDefaults(schema: JsonSchema, value: unknown): unknown {
  if (schema.type !== 'object' || value === null || typeof value !== 'object' || Array.isArray(value))
    return value;
  const out = { ...(value as JsonSchema) };
  for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    if (out[key] === undefined && child.default !== undefined) out[key] = child.default;
    if (out[key] !== undefined) out[key] = withNestedDefaults(child, out[key]);
  }
  return out;
}

/**
 * zod's `.prefault({})` becomes `default: {}`. The apiserver validates every `default` against its
 * schema, CEL rules included, *without* applying the defaults nested in it, so `{}` fails a rule
 * like `duration(self.warning) <= ...` ("no such key: warning") and the CRD is rejected. For
 * objects with CEL rules, write the fully defaulted object instead: equivalent (objects are
 * defaulted top-down) and valid.
 */
export function expandDefaults(schema: JsonSchema): JsonSchema {
  for (const child of Object.values((schema.properties ?? {}) as Record<string, JsonSchema>))
    expandDefaults(child);
  if (schema.items && typeof schema.items === 'object') expandDefaults(schema.items as JsonSchema);
  if (schema.default !== undefined && schema['x-kubernetes-validations'] !== undefined) {
    schema.default = withNestedDefaults(schema, schema.default);
  }
  return schema;
}

const condition = (type: string) => `.status.conditions[?(@.type=="${type}")]`;

/** Columns of `kubectl get etcdhealthcheck`, modelled on `oc get co` and `oc get mcp`. */
export const PRINTER_COLUMNS = [
  {
    name: 'Available',
    type: 'string',
    jsonPath: `${condition('Available')}.status`,
    description: 'etcd serves: a leader and quorum.',
  },
  {
    name: 'Progressing',
    type: 'string',
    jsonPath: `${condition('Progressing')}.status`,
    description: 'An automated remediation is under way.',
  },
  {
    name: 'Degraded',
    type: 'string',
    jsonPath: `${condition('Degraded')}.status`,
    description: 'Some check is critical.',
  },
  {
    name: 'Members',
    type: 'string',
    jsonPath: '.status.summary.members',
    description: 'Healthy/total voting members.',
  },
  { name: 'Leader', type: 'string', jsonPath: '.status.summary.leader' },
  {
    name: 'DB Size',
    type: 'string',
    jsonPath: '.status.summary.dbSize',
    description: 'Largest physical DB size.',
  },
  {
    name: 'Fsync P99',
    type: 'string',
    jsonPath: '.status.summary.walFsyncP99',
    description: 'Highest WAL fsync p99.',
  },
  {
    name: 'Since',
    type: 'date',
    jsonPath: '.status.summary.lastTransitionTime',
    description: 'Last flip of a union condition.',
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  { name: 'Upgradeable', type: 'string', jsonPath: `${condition('Upgradeable')}.status`, priority: 1 },
  { name: 'Quota', type: 'string', jsonPath: '.status.summary.quotaUsage', priority: 1 },
  { name: 'Commit P99', type: 'string', jsonPath: '.status.summary.backendCommitP99', priority: 1 },
  { name: 'Recommendations', type: 'string', jsonPath: '.status.summary.recommendations', priority: 1 },
  { name: 'Last Check', type: 'date', jsonPath: '.status.lastCheck.time', priority: 1 },
  { name: 'Message', type: 'string', jsonPath: `${condition('Degraded')}.message`, priority: 1 },
];

export function buildCrd() {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: SHORT_NAMES,
        categories: CATEGORIES,
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
          schema: {
            openAPIV3Schema: {
              description:
                'EtcdHealthCheck checks the health of one etcd cluster and reports conditions and recommended remediations.',
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: openApi(EtcdHealthCheckSpecSchema),
                status: openApi(EtcdHealthCheckStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}
