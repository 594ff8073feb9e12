import { describe, expect, it } from '@jest/globals';
import { loadYaml } from '@kubernetes/client-node';
import type { Condition } from '../../src/api/v1alpha1/status.js';
import type { CheckReport } from '../../src/cli/report.js';
import { verdictOf } from '../../src/cli/verdict.js';
import {
  renderJsonLine,
  renderScreen,
  renderYamlDocument,
  transitionsOf,
  watch,
  type WatchFrame,
} from '../../src/cli/watch.js';
import type { Observation } from '../../src/health/observation.js';
import {
  T0,
  at,
  healthyCluster,
  killed,
  run,
  secondsAfter,
  specWith,
  type Change,
} from '../health/fixtures.js';

const SPEC = specWith({ thresholds: { degradedInertia: '0s' } });

function report(observation: Observation, previousConditions: Condition[] = []): CheckReport {
  const analysis = run(observation, { spec: SPEC, previousConditions });
  return {
    origin: '3 endpoints from --endpoints',
    observation,
    analysis,
    verdict: verdictOf(analysis, observation),
  };
}

function condition(type: string, status: Condition['status'], reason = 'Why'): Condition {
  return { type, status, reason, message: '', lastTransitionTime: T0.toISOString(), observedGeneration: 1 };
}

/** A loop over `clusters` (one per run) with a fake clock: each run takes 300ms, sleeps are instant. */
function fakeLoop(clusters: Change[][], intervalMs = 5000) {
  const stop = new AbortController();
  let clock = 0;
  const previous: Condition[][] = [];
  const frames: WatchFrame[] = [];
  const sleeps: number[] = [];
  const loop = {
    intervalMs,
    signal: stop.signal,
    now: () => clock,
    check(previousConditions: Condition[]) {
      previous.push(previousConditions);
      const changes = clusters[previous.length - 1] ?? [];
      clock += 300;
      const observation = healthyCluster(3, at(secondsAfter(T0, previous.length * 5)), ...changes);
      return Promise.resolve(report(observation, previousConditions));
    },
    print(frame: WatchFrame) {
      frames.push(frame);
      if (frames.length === clusters.length) stop.abort();
      return Promise.resolve();
    },
    sleep(ms: number) {
      sleeps.push(ms);
      clock += ms;
      return Promise.resolve();
    },
  };
  return { loop, stop, previous, frames, sleeps };
}

describe('watch', () => {
  it('runs until the signal, each run with the last run’s conditions, and exits with the last verdict', async () => {
    const { loop, previous, frames, sleeps } = fakeLoop([[], [killed(2)], [killed(2)]]);
    const code = await watch(loop);

    expect(frames.map((frame) => frame.run)).toEqual([1, 2, 3]);
    expect(previous[0]).toEqual([]);
    expect(previous[1]).toBe(frames[0]!.report.analysis.conditions);
    expect(previous[2]).toBe(frames[1]!.report.analysis.conditions);
    // One member of three down: a warning.
    expect(code).toBe(1);
    expect(frames.map((frame) => frame.report.verdict.exitCode)).toEqual([0, 1, 1]);
    // Runs start every interval: the sleep is what the run left of it. None after the last run.
    expect(sleeps).toEqual([4700, 4700]);
  });

  it('reports the transitions since the last run, none on the first', async () => {
    const { loop, frames } = fakeLoop([[], [killed(2)], [killed(2)], []]);
    await watch(loop);

    expect(frames[0]!.transitions).toEqual([]);
    expect(frames[1]!.transitions).toContainEqual(
      expect.objectContaining({ type: 'EtcdMembersUpgradeable', from: 'True', to: 'False' }),
    );
    expect(frames[2]!.transitions).toEqual([]);
    expect(frames[3]!.transitions).toContainEqual(
      expect.objectContaining({ type: 'EtcdMembersUpgradeable', from: 'False', to: 'True' }),
    );
    // The previous conditions keep lastTransitionTime: unchanged since the first run.
    const members = (frame: WatchFrame) =>
      frame.report.analysis.conditions.find((c) => c.type === 'EtcdMembersUpgradeable')!;
    expect(members(frames[2]!).lastTransitionTime).toBe(members(frames[1]!).lastTransitionTime);
    expect(members(frames[1]!).lastTransitionTime).not.toBe(members(frames[0]!).lastTransitionTime);
  });

  it('drops a run the signal cut short and keeps the exit code of the last finished one', async () => {
    const { loop, stop, frames } = fakeLoop([[], [killed(2)]]);
    const check = loop.check;
    loop.check = async (previousConditions) => {
      const result = await check(previousConditions);
      if (previousConditions.length > 0) stop.abort();
      return result;
    };
    const code = await watch(loop);

    expect(frames.map((frame) => frame.run)).toEqual([1]);
    expect(code).toBe(0);
  });

  it('exits 3 when stopped before any run finished', async () => {
    const { loop, stop, frames } = fakeLoop([[]]);
    stop.abort();
    expect(await watch(loop)).toBe(3);
    expect(frames).toEqual([]);
  });

  it('does not sleep after a run longer than the interval', async () => {
    const { loop, sleeps } = fakeLoop([[], []], 200);
    await watch(loop);
    expect(sleeps).toEqual([]);
  });
});

describe('transitionsOf', () => {
  it('lists the conditions whose status changed, with the new reason, in the current order', () => {
    const previous = [
      condition('Available', 'True'),
      condition('Degraded', 'False'),
      condition('Gone', 'True'),
    ];
    const current = [
      condition('Available', 'True'),
      condition('Degraded', 'True', 'EtcdMembers_Unhealthy'),
      condition('New', 'True'),
    ];
    expect(transitionsOf(previous, current)).toEqual([
      { type: 'Degraded', from: 'False', to: 'True', reason: 'EtcdMembers_Unhealthy' },
    ]);
  });
});

describe('rendering a run', () => {
  const frame: WatchFrame = {
    run: 2,
    intervalMs: 5000,
    report: report(healthyCluster(3, killed(2))),
    transitions: [{ type: 'EtcdMembersDegraded', from: 'False', to: 'True', reason: 'MembersUnhealthy' }],
  };

  it('prints one compact JSON line: the -o json document with the run, its time and transitions', () => {
    const text = renderJsonLine(frame);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.slice(0, -1)).not.toContain('\n');
    const document = JSON.parse(text) as Record<string, unknown>;
    expect(document.watch).toEqual({ run: 2, time: T0.toISOString(), transitions: frame.transitions });
    expect(document.result).toMatchObject({ verdict: 'Warning', exitCode: 1 });
    expect(document.status).toMatchObject({ observedGeneration: 1 });
  });

  it('prints one YAML document per run', () => {
    const text = renderYamlDocument(frame);
    expect(text.startsWith('---\n')).toBe(true);
    expect(loadYaml(text.slice(4))).toMatchObject({ watch: { run: 2 }, result: { exitCode: 1 } });
  });

  it('clears the screen, then the header, the highlighted transitions and the report', () => {
    const plain = renderScreen(frame, { color: false, width: 100 });
    expect(plain.startsWith('\u001b[H\u001b[2J')).toBe(true);
    const lines = plain.slice(plain.indexOf('every')).split('\n');
    expect(lines[0]).toBe(`every 5s, run 2, ${T0.toISOString()} (Ctrl-C to stop)`);
    expect(lines[1]).toBe('>> EtcdMembersDegraded False -> True (MembersUnhealthy)');
    expect(plain).toContain('etcd-health check: 3 endpoints from --endpoints');

    const colored = renderScreen(frame, { color: true, width: 100 });
    expect(colored).toContain('\u001b[7mEtcdMembersDegraded False -> True (MembersUnhealthy)\u001b[0m');
  });

  it('says so when nothing changed, and nothing on the first run', () => {
    expect(renderScreen({ ...frame, transitions: [] }, { color: false, width: 100 })).toContain(
      'no transitions since the last run\n',
    );
    const first = renderScreen({ ...frame, run: 1, transitions: [] }, { color: false, width: 100 });
    expect(first).not.toContain('transitions');
    expect(first).toContain('run 1,');
  });
});
