// The member pods check: every pod state, the restart window at, just inside and just outside its
// bound, missing times, the pairing of pods with members, the condition and the recommendation.
import { describe, expect, it } from '@jest/globals';
import { RESTART_WINDOW_SECONDS } from '../../src/health/checks/member-pods.js';
import type { MemberPod, Observation, PodContainer } from '../../src/health/observation.js';
import {
  T0,
  apply,
  conditionOf,
  findingOf,
  findingsOf,
  healthyCluster,
  memberName,
  run,
  secondsAfter,
  specWith,
  type Change,
} from './fixtures.js';

const DISCOVERY = specWith({ etcd: { discovery: { namespace: 'etcd', labelSelector: 'app=etcd' } } });
const OPENSHIFT = specWith({ etcd: { discovery: {} } });

const ago = (seconds: number) => secondsAfter(T0, -seconds).toISOString();

const container = (more: Partial<PodContainer> = {}): PodContainer => ({
  name: 'etcd',
  ready: true,
  restartCount: 0,
  ...more,
});

/** The pod of member `index` (IP of its client URL in the fixtures), Running and Ready. */
function pod(index: number, more: Partial<MemberPod> = {}): MemberPod {
  return {
    name: `etcd-pod-${index}`,
    ip: `127.0.0.${index + 1}`,
    phase: 'Running',
    ready: true,
    containers: [container()],
    ...more,
  };
}

const withPods =
  (...pods: MemberPod[]): Change =>
  (observation: Observation) => {
    observation.etcd.pods = pods;
  };

/** Three members; the pod of etcd-1 changed as given. */
function analysisWith(changed: Partial<MemberPod>, spec = DISCOVERY) {
  return run(healthyCluster(3, withPods(pod(0), pod(1, changed), pod(2))), { spec });
}

describe('the member pods check', () => {
  it('says it does not apply when the members are endpoints, not discovered', () => {
    const analysis = run(healthyCluster(3));
    expect(findingsOf(analysis, 'MemberPods')).toEqual([
      expect.objectContaining({ severity: 'OK', target: 'cluster', reason: 'NotDiscovered' }),
    ]);
    expect(conditionOf(analysis, 'MemberPodsDegraded')).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
    });
  });

  it('is Unknown, with the source error, when discovery could not list the pods', () => {
    const observation = apply(healthyCluster(3), (o) => {
      o.etcd.source = { state: 'Error', message: 'listing pods "app=etcd" in namespace etcd: forbidden' };
    });
    const analysis = run(observation, { spec: DISCOVERY });
    expect(findingOf(analysis, 'MemberPods', 'cluster')).toMatchObject({
      severity: 'Unknown',
      reason: 'NoData',
      message: 'Member pods are not checked: listing pods "app=etcd" in namespace etcd: forbidden',
    });
    expect(conditionOf(analysis, 'MemberPodsDegraded')).toMatchObject({
      status: 'Unknown',
      reason: 'NoData',
    });
  });

  it('is Unknown when the selector matches no pod', () => {
    const analysis = run(healthyCluster(3, withPods()), { spec: DISCOVERY });
    expect(findingOf(analysis, 'MemberPods', 'cluster')).toMatchObject({
      severity: 'Unknown',
      message: 'No pods "app=etcd" in namespace etcd were found',
    });
  });

  it('reports each member whose pod runs, is Ready and has not restarted lately as OK', () => {
    const analysis = run(healthyCluster(3, withPods(pod(0), pod(1), pod(2))), { spec: DISCOVERY });
    expect(findingsOf(analysis, 'MemberPods').map((f) => [f.target, f.severity, f.reason])).toEqual([
      [memberName(0), 'OK', 'AsExpected'],
      [memberName(1), 'OK', 'AsExpected'],
      [memberName(2), 'OK', 'AsExpected'],
    ]);
    expect(findingOf(analysis, 'MemberPods', memberName(1)).message).toBe(
      'Pod etcd-pod-1 of member etcd-1 is Running and Ready, with no restart in the last 1h',
    );
    expect(conditionOf(analysis, 'MemberPodsDegraded')).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
      message: 'Every member pod is Running and Ready, with no restart in the last hour',
    });
    expect(analysis.recommendations.filter((r) => r.type === 'InvestigateMemberPod')).toEqual([]);
  });

  it.each<[string, Partial<MemberPod>, string, string]>([
    ['Pending', { phase: 'Pending', ready: false }, 'PodNotRunning', 'it is Pending and it is not Ready'],
    ['Failed', { phase: 'Failed' }, 'PodNotRunning', 'it is Failed'],
    ['in no phase', { phase: '' }, 'PodNotRunning', 'it is in no phase yet'],
    ['being deleted', { deleting: true }, 'PodTerminating', 'it is being deleted'],
    [
      'crash looping',
      {
        ready: false,
        containers: [
          container({
            ready: false,
            restartCount: 6,
            waitingReason: 'CrashLoopBackOff',
            lastTermination: { reason: 'Error', exitCode: 1, finishedAt: ago(120) },
          }),
        ],
      },
      'CrashLoopBackOff',
      'container etcd is in CrashLoopBackOff, it is not Ready and the last run of container etcd ended in Error (exit code 1) 2m ago (6 restarts in total)',
    ],
    [
      'OOMKilled and crash looping',
      {
        containers: [
          container({
            restartCount: 3,
            waitingReason: 'CrashLoopBackOff',
            lastTermination: { reason: 'OOMKilled', exitCode: 137, finishedAt: ago(30) },
          }),
        ],
      },
      'OOMKilled',
      'container etcd is in CrashLoopBackOff and the last run of container etcd ended in OOMKilled (exit code 137) 30s ago (3 restarts in total)',
    ],
    [
      'waiting for its image',
      { containers: [container(), container({ name: 'etcd-metrics', waitingReason: 'ImagePullBackOff' })] },
      'ContainerWaiting',
      'container etcd-metrics is waiting: ImagePullBackOff',
    ],
    ['not Ready', { ready: false }, 'PodNotReady', 'it is not Ready'],
    [
      'restarted lately',
      {
        containers: [
          container({
            restartCount: 1,
            lastTermination: { reason: 'Error', exitCode: 2, finishedAt: ago(600) },
          }),
        ],
      },
      'Restarted',
      'the last run of container etcd ended in Error (exit code 2) 10m ago (1 restart in total)',
    ],
  ])('warns about a pod %s, by member name', (_label, changed, reason, facts) => {
    const analysis = analysisWith(changed);
    expect(findingOf(analysis, 'MemberPods', memberName(1))).toMatchObject({
      severity: 'Warning',
      reason,
      message: `Pod etcd-pod-1 of member etcd-1: ${facts}`,
    });
    expect(findingOf(analysis, 'MemberPods', memberName(0)).severity).toBe('OK');
    const condition = conditionOf(analysis, 'MemberPodsDegraded');
    expect(condition).toMatchObject({ status: 'False', reason });
    expect(condition.message).toContain('etcd-1');
  });

  it.each<[string, number, string]>([
    ['just inside the window', RESTART_WINDOW_SECONDS - 1, 'Restarted'],
    ['at the window', RESTART_WINDOW_SECONDS, 'Restarted'],
    ['just outside the window', RESTART_WINDOW_SECONDS + 1, 'AsExpected'],
  ])('counts a restart that ended %s', (_label, seconds, reason) => {
    const analysis = analysisWith({
      containers: [
        container({ restartCount: 4, lastTermination: { reason: 'Error', finishedAt: ago(seconds) } }),
      ],
    });
    expect(findingOf(analysis, 'MemberPods', memberName(1))).toMatchObject({
      severity: reason === 'AsExpected' ? 'OK' : 'Warning',
      reason,
    });
  });

  it.each<[string, number, string]>([
    ['inside the window', RESTART_WINDOW_SECONDS, 'OOMKilled'],
    ['outside the window', RESTART_WINDOW_SECONDS + 1, 'AsExpected'],
  ])('counts an OOM kill %s only', (_label, seconds, reason) => {
    const analysis = analysisWith({
      containers: [
        container({
          restartCount: 1,
          lastTermination: { reason: 'OOMKilled', exitCode: 137, finishedAt: ago(seconds) },
        }),
      ],
    });
    expect(findingOf(analysis, 'MemberPods', memberName(1)).reason).toBe(reason);
  });

  it('mentions the total restarts of a pod whose last restart is old', () => {
    const analysis = analysisWith({
      containers: [
        container({
          restartCount: 2,
          lastTermination: { reason: 'Completed', exitCode: 0, finishedAt: ago(86_400) },
        }),
      ],
    });
    expect(findingOf(analysis, 'MemberPods', memberName(1)).message).toBe(
      'Pod etcd-pod-1 of member etcd-1 is Running and Ready, with no restart in the last 1h (2 restarts in total)',
    );
  });

  it.each([
    ['no time', undefined],
    ['a time that does not parse', 'yesterday'],
  ])('judges a last termination with %s as recent, never as healthy', (_label, finishedAt) => {
    const analysis = analysisWith({
      containers: [
        container({
          restartCount: 1,
          lastTermination: { reason: 'OOMKilled', ...(finishedAt ? { finishedAt } : {}) },
        }),
      ],
    });
    expect(findingOf(analysis, 'MemberPods', memberName(1))).toMatchObject({
      severity: 'Warning',
      reason: 'OOMKilled',
      message:
        'Pod etcd-pod-1 of member etcd-1: the last run of container etcd ended in OOMKilled at a time the pod status does not give (1 restart in total)',
    });
  });

  it('counts a termination time ahead of the observation (clock skew) as just now', () => {
    const analysis = analysisWith({
      containers: [
        container({ restartCount: 1, lastTermination: { reason: 'Error', finishedAt: ago(-30) } }),
      ],
    });
    expect(findingOf(analysis, 'MemberPods', memberName(1)).message).toContain('ended in Error 0s ago');
  });

  it("does not repeat an exit code that is the termination's only reason", () => {
    const analysis = analysisWith({
      containers: [
        container({
          restartCount: 1,
          lastTermination: { reason: 'exit code 2', exitCode: 2, finishedAt: ago(5) },
        }),
      ],
    });
    expect(findingOf(analysis, 'MemberPods', memberName(1)).message).toContain('ended in exit code 2 5s ago');
  });

  describe('pairs pods with members', () => {
    it('by IP, whatever the pod is called', () => {
      const analysis = run(
        healthyCluster(3, withPods(pod(2, { name: 'zz' }), pod(0, { name: 'aa', ready: false }), pod(1))),
        {
          spec: DISCOVERY,
        },
      );
      expect(findingOf(analysis, 'MemberPods', memberName(0)).message).toBe(
        'Pod aa of member etcd-0: it is not Ready',
      );
      expect(findingOf(analysis, 'MemberPods', memberName(2)).message).toContain('Pod zz of member etcd-2');
    });

    it.each<[string, Partial<MemberPod>]>([
      ['the member name', { name: 'etcd-1' }],
      ["OpenShift's etcd-<member>", { name: 'etcd-etcd-1' }],
      ['the node the member is named after', { name: 'etcd-master', nodeName: 'etcd-1' }],
    ])('by %s when the pod has no IP', (_label, naming) => {
      const analysis = analysisWith({ ip: '', phase: 'Pending', ...naming });
      expect(findingOf(analysis, 'MemberPods', memberName(1))).toMatchObject({
        reason: 'PodNotRunning',
        message: expect.stringMatching(/^Pod \S+ of member etcd-1: it is Pending$/),
      });
      expect(findingsOf(analysis, 'MemberPods')).toHaveLength(3);
    });

    it('by an IPv6 address in brackets', () => {
      const observation = apply(healthyCluster(3), (o) => {
        const member = o.etcd.members[1]!;
        member.endpoint = 'https://[fd00::2]:2379';
        member.clientURLs = [member.endpoint];
      });
      const analysis = run(
        apply(observation, withPods(pod(0), pod(1, { ip: 'fd00::2', ready: false }), pod(2))),
        {
          spec: DISCOVERY,
        },
      );
      expect(findingOf(analysis, 'MemberPods', memberName(1)).reason).toBe('PodNotReady');
    });

    it('reports a pod that pairs with no member under its own name, never dropping it', () => {
      const stray = pod(9, { name: 'etcd-new', ip: '', phase: 'Pending' });
      const analysis = run(healthyCluster(3, withPods(pod(0), pod(1), pod(2), stray)), { spec: DISCOVERY });
      expect(findingOf(analysis, 'MemberPods', 'etcd-new')).toMatchObject({
        severity: 'Warning',
        reason: 'PodNotRunning',
        message: 'Pod etcd-new (no member has its IP or name): it is Pending',
      });
    });

    it('notes a member that has no pod, without a recommendation', () => {
      const analysis = run(healthyCluster(3, withPods(pod(0), pod(1))), { spec: DISCOVERY });
      expect(findingOf(analysis, 'MemberPods', memberName(2))).toMatchObject({
        severity: 'Info',
        reason: 'NoPod',
        message:
          'Member etcd-2 has none of the pods "app=etcd" in namespace etcd by IP or name: it runs elsewhere, or its pod is gone',
      });
      expect(analysis.recommendations.filter((r) => r.type === 'InvestigateMemberPod')).toEqual([]);
    });

    it('pairs a pod that does not run, made a member by the source, by its name', () => {
      const observation = healthyCluster(2, (o) => {
        o.etcd.memberListKnown = false;
        o.etcd.members.push({
          id: '',
          name: 'etcd-pod-2',
          clientURLs: [],
          peerURLs: [],
          isLearner: false,
          endpoint: '',
          error: 'pod etcd-pod-2 is Pending',
        });
      });
      const analysis = run(
        apply(observation, withPods(pod(0), pod(1), pod(2, { ip: '', phase: 'Pending' }))),
        {
          spec: DISCOVERY,
        },
      );
      expect(findingOf(analysis, 'MemberPods', 'etcd-pod-2').message).toBe(
        'Pod etcd-pod-2 of member etcd-pod-2: it is Pending',
      );
      expect(conditionOf(analysis, 'EtcdMembersProgressing').message).toContain('etcd-pod-2');
    });
  });

  describe('recommends', () => {
    it('one recommendation per state, listing the members, with describe and the previous log of each pod', () => {
      const crash = container({
        restartCount: 5,
        waitingReason: 'CrashLoopBackOff',
        lastTermination: { reason: 'Error', exitCode: 1, finishedAt: ago(60) },
      });
      const analysis = run(
        healthyCluster(3, withPods(pod(0, { containers: [crash] }), pod(1, { containers: [crash] }), pod(2))),
        { spec: DISCOVERY },
      );
      const recommendations = analysis.recommendations.filter((r) => r.type === 'InvestigateMemberPod');
      expect(recommendations).toEqual([
        expect.objectContaining({
          severity: 'Warning',
          target: 'cluster',
          members: ['etcd-0', 'etcd-1'],
          reason: 'CrashLoopBackOff',
          commands: [
            'kubectl -n etcd describe pod etcd-pod-0',
            'kubectl -n etcd logs etcd-pod-0 -c etcd --previous',
            'kubectl -n etcd describe pod etcd-pod-1',
            'kubectl -n etcd logs etcd-pod-1 -c etcd --previous',
          ],
        }),
      ]);
      expect(recommendations[0]!.message).toContain("The previous run's log says why etcd exits");
    });

    it('oc on OpenShift, and no previous log for a pod that does not run', () => {
      const analysis = analysisWith({ phase: 'Pending', ip: '', name: 'etcd-etcd-1' }, OPENSHIFT);
      expect(analysis.recommendations.find((r) => r.type === 'InvestigateMemberPod')).toMatchObject({
        target: 'etcd-1',
        reason: 'PodNotRunning',
        commands: ['oc -n openshift-etcd describe pod etcd-etcd-1'],
      });
    });

    it('the memory limit for an OOM kill', () => {
      const analysis = analysisWith({
        containers: [
          container({
            restartCount: 1,
            lastTermination: { reason: 'OOMKilled', exitCode: 137, finishedAt: ago(60) },
          }),
        ],
      });
      const recommendation = analysis.recommendations.find((r) => r.type === 'InvestigateMemberPod')!;
      expect(recommendation.message).toContain('used up its memory limit');
      expect(recommendation.commands).toContain('kubectl -n etcd logs etcd-pod-1 -c etcd --previous');
    });
  });
});
