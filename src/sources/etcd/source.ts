// The etcd source: the member list (linearizable), then per member and concurrently the
// Maintenance Status and a health read, and the alarm list. Without a member list (no quorum) the
// configured endpoints are observed instead, so that what can be known still is.
import type { SourceState } from '../../api/v1alpha1/status.js';
import type {
  EtcdObservation,
  MemberObservation,
  MemberPod,
  ServingCertificate,
} from '../../health/observation.js';
import { clip, errorText } from '../text.js';
import { CANCELLED, followSignal } from '../timeout.js';
import { clientCertificate } from './certificates.js';
import { connectMember, type EtcdCallOptions, type MemberClient } from './client.js';
import { dialHttp2, type DialResult } from './dial.js';
import { discoverEndpoints, type Discovery, type PodLister, type PodWithoutEndpoint } from './discovery.js';
import type { EndpointPolicy } from './endpoint-policy.js';
import {
  alarmsFromStatusErrors,
  parseAlarms,
  parseMemberList,
  parseStatus,
  type Alarm,
  type MemberList,
} from './responses.js';

export interface EtcdSourceOptions extends EtcdCallOptions {
  /** Static client URLs; exactly one of endpoints and discovery. */
  endpoints?: string[];
  discovery?: Discovery;
  /** Needed with discovery. */
  pods?: PodLister;
  /** Which addresses may be dialled (the admin's --etcd-endpoint-cidr); any without it. */
  endpointPolicy?: EndpointPolicy;
}

/**
 * When `signal` aborts, every dial and call in flight ends at once and the observation is an Error
 * "cancelled": whatever was learnt by then is incomplete.
 */
export async function observeEtcd(
  options: EtcdSourceOptions,
  cancel?: AbortSignal,
): Promise<EtcdObservation> {
  if (cancel?.aborted) return cancelledObservation();
  const { signal, release } = followSignal(cancel);
  try {
    return await observeEtcdUntil(options, signal);
  } finally {
    release();
  }
}

async function observeEtcdUntil(
  options: EtcdSourceOptions,
  signal: AbortSignal | undefined,
): Promise<EtcdObservation> {
  const resolved = await resolveEndpoints(options, signal);
  if (signal?.aborted) return cancelledObservation();
  if (!resolved.ok) return withPods(failed(resolved.error), resolved.pods);
  const clients = new ClientPool(options, options.endpointPolicy, signal);
  try {
    const observation = await observeCluster(
      resolved.endpoints,
      clients,
      resolved.withoutEndpoint,
      resolved.nodes,
    );
    if (signal?.aborted) return cancelledObservation();
    const certPem = options.tls?.certPem;
    const withCertificate = certPem
      ? { ...observation, clientCertificate: clientCertificate(certPem) }
      : observation;
    return withPods(withCertificate, resolved.pods);
  } catch (error) {
    // Only a bug lands here; it still becomes a state, not an exception.
    return failed(`observing etcd failed unexpectedly: ${errorText(error)}`);
  } finally {
    clients.closeAll();
  }
}

/** What an etcd observation is when its caller cancelled it. */
export function cancelledObservation(): EtcdObservation {
  return failed(CANCELLED);
}

async function resolveEndpoints(options: EtcdSourceOptions, signal: AbortSignal | undefined) {
  if (options.endpoints && options.endpoints.length > 0)
    return {
      ok: true as const,
      endpoints: options.endpoints,
      nodes: {},
      withoutEndpoint: [],
      pods: undefined,
    };
  if (!options.discovery) return { ok: false as const, error: 'no etcd endpoints configured' };
  if (!options.pods)
    return { ok: false as const, error: 'endpoint discovery is configured but no pod lister was given' };
  return discoverEndpoints(options.discovery, options.pods, options.requestTimeoutMs, signal);
}

/** One dial and one gRPC client per endpoint and check; all closed at the end of the check. */
class ClientPool {
  private readonly clients = new Map<string, MemberClient>();
  private readonly dials = new Map<string, Promise<DialResult>>();
  constructor(
    private readonly options: EtcdCallOptions,
    private readonly policy?: EndpointPolicy,
    private readonly signal?: AbortSignal,
  ) {}
  /**
   * The endpoint's client, once a dial proved it speaks HTTP/2; its dial error otherwise; either
   * with the certificate the dial saw. An endpoint the policy refuses is never dialled, whether
   * configured, discovered or advertised.
   */
  async connect(
    endpoint: string,
  ): Promise<
    | { ok: true; client: MemberClient; certificate?: ServingCertificate }
    | { ok: false; error: string; certificate?: ServingCertificate }
  > {
    const refusal = this.policy?.refusal(endpoint);
    if (refusal) return { ok: false, error: refusal };
    let dial = this.dials.get(endpoint);
    if (!dial) {
      dial = dialHttp2(endpoint, this.options.tls, this.options.dialTimeoutMs, this.signal);
      this.dials.set(endpoint, dial);
    }
    const dialed = await dial;
    if (!dialed.ok) return dialed;
    let client = this.clients.get(endpoint);
    if (!client) {
      client = connectMember(endpoint, this.options, this.signal);
      this.clients.set(endpoint, client);
    }
    return { ok: true, client, ...(dialed.certificate ? { certificate: dialed.certificate } : {}) };
  }
  closeAll(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

interface Target {
  member: Omit<MemberObservation, 'status' | 'health' | 'error'>;
  /** From the member list; unknown (and learned from Status) when probing bare endpoints. */
  learner?: boolean;
  /** Why a discovered pod is known to be down without dialling it. */
  down?: string;
}

async function observeCluster(
  endpoints: string[],
  clients: ClientPool,
  withoutEndpoint: PodWithoutEndpoint[],
  nodes: Readonly<Record<string, string>>,
): Promise<EtcdObservation> {
  const list = await firstSuccess(endpoints, async (endpoint) => {
    const connected = await clients.connect(endpoint);
    if (!connected.ok) return connected;
    const answer = await connected.client.memberList();
    if (!answer.ok) return answer;
    const parsed = parseMemberList(answer.value);
    return parsed.ok ? { ok: true, value: { endpoint, list: parsed.list } } : parsed;
  });
  // Without a member list, a pod that does not run is a member known to be down: it counts
  // towards the quorum the cluster needs. With one, the list says who the members are.
  const targets = list.ok
    ? targetsFromList(list.value.list, endpoints).map((target) => withNode(target, nodes))
    : [
        ...targetsFromEndpoints(endpoints).map((target) => withNode(target, nodes)),
        ...withoutEndpoint.map(downPodTarget),
      ];
  const notes = list.ok ? withoutEndpoint.map(({ pod, why }) => `pod ${pod} ${why}`) : [];
  const alarmEndpoints = list.ok ? [list.value.endpoint] : endpoints;
  const [members, alarmList] = await Promise.all([
    Promise.all(targets.map((target) => observeMember(target, clients))),
    firstSuccess(alarmEndpoints, async (endpoint) => {
      const connected = await clients.connect(endpoint);
      if (!connected.ok) return connected;
      const answer = await connected.client.alarms();
      if (!answer.ok) return answer;
      const parsed = parseAlarms(answer.value);
      return parsed.ok ? { ok: true, value: parsed.alarms } : parsed;
    }),
  ]);

  const clusterId =
    (list.ok ? list.value.list.header?.cluster_id : undefined) ?? members.find((m) => m.clusterId)?.clusterId;
  const statusAlarms = uniqueAlarms(
    members.flatMap((m) => alarmsFromStatusErrors(m.observation.status?.errors ?? [])),
  );
  const observation: EtcdObservation = {
    source: { state: 'OK' },
    clusterId,
    memberListKnown: list.ok,
    // Sorted by name: a stable order keeps the status from changing when nothing did.
    members: members.map((m) => m.observation).sort((a, b) => a.name.localeCompare(b.name)),
    alarms: alarmList.ok ? alarmList.value : statusAlarms,
    alarmsKnown: alarmList.ok,
  };
  observation.source = sourceState(observation, {
    listErrors: list.ok ? undefined : list.errors,
    alarmErrors: alarmList.ok ? undefined : alarmList.errors,
    notes,
  });
  return observation;
}

function targetsFromList(list: MemberList, configured: string[]): Target[] {
  return list.members.map((m) => {
    const started = m.clientURLs.length > 0;
    // Prefer the URL the user configured: advertised URLs may not be reachable from the operator.
    const endpoint =
      m.clientURLs.find((u) => configured.includes(u.replace(/\/+$/, ''))) ?? m.clientURLs[0] ?? '';
    return {
      learner: m.isLearner,
      member: {
        id: m.ID,
        name: m.name || m.peerURLs[0] || m.ID,
        clientURLs: m.clientURLs,
        peerURLs: m.peerURLs,
        isLearner: m.isLearner,
        endpoint: started ? endpoint.replace(/\/+$/, '') : '',
      },
    };
  });
}

/** The node of the member's pod, found by any of its client URLs. */
function withNode(target: Target, nodes: Readonly<Record<string, string>>): Target {
  const urls = [target.member.endpoint, ...target.member.clientURLs].map((url) => url.replace(/\/+$/, ''));
  const url = urls.find((candidate) => Object.hasOwn(nodes, candidate));
  return url === undefined ? target : { ...target, member: { ...target.member, node: nodes[url]! } };
}

function targetsFromEndpoints(endpoints: string[]): Target[] {
  return endpoints.map((endpoint) => ({
    member: { id: '', name: endpoint, clientURLs: [endpoint], peerURLs: [], isLearner: false, endpoint },
  }));
}

function downPodTarget({ pod, why }: PodWithoutEndpoint): Target {
  return {
    member: { id: '', name: pod, clientURLs: [], peerURLs: [], isLearner: false, endpoint: '' },
    down: `pod ${pod} ${why}`,
  };
}

interface Observed {
  observation: MemberObservation;
  clusterId?: string;
}

async function observeMember(target: Target, clients: ClientPool): Promise<Observed> {
  const member: MemberObservation = { ...target.member };
  if (member.endpoint === '') {
    member.error = target.down ?? `member ${member.name} has not started (no client URLs)`;
    return { observation: member };
  }
  const connected = await clients.connect(member.endpoint);
  if (connected.certificate) member.certificate = connected.certificate;
  if (!connected.ok) {
    member.error = `${member.endpoint}: ${connected.error}`;
    member.health = { healthy: false, error: member.error, tookMs: 0 };
    return { observation: member };
  }
  const client = connected.client;
  const health = async (learner: boolean) => {
    const read = await client.healthRead(learner);
    member.health = read.ok
      ? { healthy: true, tookMs: read.tookMs }
      : { healthy: false, error: `${member.endpoint}: ${read.error}`, tookMs: read.tookMs };
  };
  // A learner refuses linearizable reads: without the member list, ask Status first.
  const healthDone = target.learner === undefined ? undefined : health(target.learner);
  const status = await client.status();
  let clusterId: string | undefined;
  if (status.ok) {
    const parsed = parseStatus(status.value);
    if (parsed.ok) {
      member.status = parsed.status;
      clusterId = parsed.clusterId;
      if (member.id === '') member.id = parsed.status.memberId;
      if (target.learner === undefined) member.isLearner = parsed.status.isLearner;
    } else {
      member.error = `${member.endpoint}: ${parsed.error}`;
    }
  } else {
    member.error = `${member.endpoint}: ${status.error}`;
  }
  await (healthDone ?? health(member.isLearner));
  return { observation: member, clusterId };
}

type EndpointError = { endpoint: string; error: string };
type FirstSuccess<T> = { ok: true; value: T } | { ok: false; errors: EndpointError[] };

/** Asks every endpoint at once and takes the first success; every endpoint's error when none succeeds. */
async function firstSuccess<T>(
  endpoints: string[],
  ask: (endpoint: string) => Promise<{ ok: true; value: T } | { ok: false; error: string }>,
): Promise<FirstSuccess<T>> {
  const errors: EndpointError[] = [];
  return new Promise((resolve) => {
    let pending = endpoints.length;
    if (pending === 0) resolve({ ok: false, errors: [] });
    for (const endpoint of endpoints) {
      void ask(endpoint).then((answer) => {
        if (answer.ok) resolve({ ok: true, value: answer.value });
        else errors.push({ endpoint, error: `${endpoint}: ${answer.error}` });
        if (--pending === 0) resolve({ ok: false, errors });
      });
    }
  });
}

function uniqueAlarms(alarms: Alarm[]): Alarm[] {
  const seen = new Map(alarms.map((a) => [`${a.memberId}/${a.alarm}`, a]));
  return [...seen.values()];
}

/**
 * OK when every member answered; Partial when some did not, or the member or alarm list failed;
 * Error when nothing answered. Each endpoint's failure is told once: an unreachable member's
 * status error, not also its failed member list, alarm list and health read.
 */
function sourceState(
  observation: EtcdObservation,
  context: { listErrors?: EndpointError[]; alarmErrors?: EndpointError[]; notes: string[] },
): SourceState {
  const unreachable = observation.members.filter((m) => m.status === undefined);
  const unreachableEndpoints = new Set(unreachable.map((m) => m.endpoint));
  const otherwise = (errors: EndpointError[]) =>
    errors.filter((e) => !unreachableEndpoints.has(e.endpoint)).map((e) => e.error);
  const memberErrors = unreachable.map((m) => {
    const error = m.error ?? 'no status';
    return m.name === m.endpoint || m.endpoint === '' ? error : `${m.name}: ${error}`;
  });
  if (unreachable.length === observation.members.length && !observation.memberListKnown) {
    return {
      state: 'Error',
      message: clip(['no etcd endpoint answered', ...memberErrors, ...context.notes].join('; ')),
    };
  }
  const problems: string[] = [];
  if (context.listErrors) {
    const why = otherwise(context.listErrors);
    problems.push(
      `member list failed on every endpoint (no quorum?)${why.length > 0 ? `: ${why.join('; ')}` : ''}; observed the configured endpoints instead`,
    );
  }
  if (unreachable.length > 0)
    problems.push(
      `${observation.members.length - unreachable.length}/${observation.members.length} members answered`,
      ...memberErrors,
    );
  if (context.alarmErrors) {
    const why = otherwise(context.alarmErrors);
    problems.push(`alarm list unknown${why.length > 0 ? `: ${why.join('; ')}` : ''}`);
  }
  const unhealthy = observation.members
    .filter((m) => m.status && m.health && !m.health.healthy)
    .map((m) => `${m.name}: ${m.health?.error ?? ''}`);
  const notes = [...context.notes, ...unhealthy];
  if (problems.length > 0) return { state: 'Partial', message: clip([...problems, ...notes].join('; ')) };
  return notes.length > 0 ? { state: 'OK', message: clip(notes.join('; ')) } : { state: 'OK' };
}

function withPods(observation: EtcdObservation, pods: MemberPod[] | undefined): EtcdObservation {
  return pods === undefined ? observation : { ...observation, pods };
}

function failed(message: string): EtcdObservation {
  return {
    source: { state: 'Error', message: clip(message) },
    memberListKnown: false,
    members: [],
    alarms: [],
    alarmsKnown: false,
  };
}
