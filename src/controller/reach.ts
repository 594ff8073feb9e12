// The cluster admin's policy for what a check may make the operator reach, decided before any
// source is asked: endpoint discovery lists pods only in the check's own namespace and in the
// namespaces the admin allowed (--discovery-namespace), and static etcd endpoints must lie inside
// the admin's networks (--etcd-endpoint-cidr). A check that asks for more is refused with a
// condition naming the flag; the operator then neither lists nor dials anything for it.
import { DISCOVERY_PRESETS, type EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { EndpointPolicy } from '../sources/etcd/endpoint-policy.js';

const DISCOVERY_NAMESPACE_FLAG = '--discovery-namespace';

/** A SpecDegraded reason and a message the CR author can act on; never names anything out of reach. */
export interface Refusal {
  reason: 'DiscoveryNamespaceNotAllowed' | 'EtcdEndpointNotAllowed';
  message: string;
}

export class ReachPolicy {
  constructor(
    /** Namespaces every check may discover pods in, besides its own. */
    private readonly discoveryNamespaces: readonly string[],
    readonly endpoints: EndpointPolicy,
  ) {}

  /** Undefined when the spec of a check in namespace `own` stays within the policy; otherwise why not. */
  refusal(own: string, spec: EtcdHealthCheckSpec): Refusal | undefined {
    const discovery = spec.etcd.discovery;
    if (discovery && !this.discoveryAllowed(own, discovery.namespace)) {
      // The preset fills in its namespace: a CR author who left it unset may not know.
      const defaulted = discovery.namespace === DISCOVERY_PRESETS[discovery.preset].namespace;
      const allowed = [own, ...this.discoveryNamespaces.filter((ns) => ns !== own)].join(', ');
      return {
        reason: 'DiscoveryNamespaceNotAllowed',
        message:
          `spec.etcd.discovery.namespace is ${discovery.namespace}${defaulted ? ' (also the default when it is not set)' : ''}, ` +
          `but checks in namespace ${own} may discover pods only in ${allowed}; set it to one of these, ` +
          `or ask the operator's admin to allow it with ${DISCOVERY_NAMESPACE_FLAG}=${discovery.namespace}`,
      };
    }
    const refused = (spec.etcd.endpoints ?? [])
      .map((endpoint) => this.endpoints.refusal(endpoint))
      .filter((why): why is string => why !== undefined);
    if (refused.length > 0) return { reason: 'EtcdEndpointNotAllowed', message: refused.join('; ') };
    return undefined;
  }

  private discoveryAllowed(own: string, namespace: string): boolean {
    return namespace === own || this.discoveryNamespaces.includes(namespace);
  }
}
