// Names and the object shape of the EtcdHealthCheck kind.
import type { EtcdHealthCheckSpecInput } from './spec.js';
import type { EtcdHealthCheckStatus } from './status.js';

export const GROUP = 'etcdhealth.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'EtcdHealthCheck';
export const PLURAL = 'etcdhealthchecks';
export const SINGULAR = 'etcdhealthcheck';
export const SHORT_NAMES = ['ehc'];
export const CATEGORIES = ['etcd'];

/** The four ClusterOperator-style union conditions, in display order. */
export const UNION_CONDITION_TYPES = ['Available', 'Progressing', 'Degraded', 'Upgradeable'] as const;
export type UnionConditionType = (typeof UNION_CONDITION_TYPES)[number];

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** An EtcdHealthCheck as it comes from the API server: the spec is not yet validated. */
export interface EtcdHealthCheck {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: EtcdHealthCheckSpecInput;
  status?: EtcdHealthCheckStatus;
}
