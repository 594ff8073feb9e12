// The Argo CD health check of EtcdHealthCheck (deploy/argocd/health.lua): run with Debian's lua5.4
// through test/deploy/argocd-driver.lua against the cases of deploy/argocd/health_test.yaml (Argo
// CD's own test format), and kept identical to the copy embedded in argocd-cm-patch.yaml.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARGOCD_DIR, HEALTH_LUA, HealthRunner, type Health } from './argocd.js';

const CM_KEY = 'resource.customizations.health.etcdhealth.io_EtcdHealthCheck';

interface HealthCase {
  healthStatus: Health;
  inputPath: string;
}

const cases = (
  yaml.load(readFileSync(join(ARGOCD_DIR, 'health_test.yaml'), 'utf8')) as { tests: HealthCase[] }
).tests;

let runner: HealthRunner;

beforeAll(() => {
  runner = new HealthRunner();
});

afterAll(() => {
  runner?.close();
});

const health = (script: string, object: unknown) => runner.health(object, script);

const input = (path: string): Record<string, unknown> =>
  yaml.load(readFileSync(join(ARGOCD_DIR, path), 'utf8')) as Record<string, unknown>;

describe('deploy/argocd/health.lua', () => {
  it.each(cases.map((c) => [c.inputPath, c] as const))('%s', async (_path, testCase) => {
    expect(await health(HEALTH_LUA, input(testCase.inputPath))).toEqual(testCase.healthStatus);
  });

  it('the cases cover Healthy, Progressing, Degraded and Suspended', () => {
    expect(new Set(cases.map((c) => c.healthStatus.status))).toEqual(
      new Set(['Healthy', 'Progressing', 'Degraded', 'Suspended']),
    );
  });

  it('Degraded wins over Progressing; Available=False over Degraded=True', async () => {
    const object = input('testdata/degraded.yaml') as {
      status: { conditions: Array<Record<string, string>> };
    };
    const conditions = object.status.conditions;
    conditions.find((c) => c.type === 'Progressing')!.status = 'True';
    expect((await health(HEALTH_LUA, object)).status).toBe('Degraded');
    Object.assign(
      conditions.find((c) => c.type === 'Available')!,
      { status: 'False', message: 'No leader' },
    );
    expect(await health(HEALTH_LUA, object)).toEqual({ status: 'Degraded', message: 'No leader' });
  });

  it('a condition without a message reports its reason', async () => {
    const object = input('testdata/degraded.yaml') as {
      status: { conditions: Array<Record<string, string>> };
    };
    delete object.status.conditions.find((c) => c.type === 'Degraded')!.message;
    expect(await health(HEALTH_LUA, object)).toEqual({
      status: 'Degraded',
      message: 'Alarms_NoSpaceAlarm::DiskLatency_SlowWALFsync',
    });
  });

  it('the driver passes strings through unchanged (quotes, backslashes, newlines, UTF-8)', async () => {
    const message = 'a "quoted" \\ back\nslash — µs\ttab';
    const object = {
      metadata: { generation: 1 },
      status: { observedGeneration: 1, conditions: [{ type: 'Available', status: 'True', message }] },
    };
    expect(await health(HEALTH_LUA, object)).toEqual({ status: 'Healthy', message });
  });

  it('uses nothing Lua 5.1 (Argo CD runs gopher-lua) lacks', () => {
    // Code only: string literals and comments removed.
    const code = readFileSync(HEALTH_LUA, 'utf8')
      .replace(/"(?:[^"\\\n]|\\.)*"/g, '""')
      .replace(/--.*$/gm, '');
    // goto, integer division, attribs, bitwise operators, the utf8 library: all Lua 5.2+.
    for (const construct of [/\bgoto\b/, /\/\//, /<const>|<close>/, /[&|]|<<|>>|~(?!=)/, /\butf8\./]) {
      expect(code).not.toMatch(construct);
    }
    expect(code).toContain('return hs');
  });
});

describe('deploy/argocd/argocd-cm-patch.yaml', () => {
  const configMap = yaml.load(readFileSync(join(ARGOCD_DIR, 'argocd-cm-patch.yaml'), 'utf8')) as {
    kind: string;
    metadata: { name: string; namespace: string };
    data: Record<string, string>;
  };

  it('patches argocd-cm with the health check of etcdhealth.io/EtcdHealthCheck', () => {
    expect(configMap.kind).toBe('ConfigMap');
    expect(configMap.metadata.name).toBe('argocd-cm');
    expect(Object.keys(configMap.data)).toEqual([CM_KEY]);
  });

  it('embeds health.lua verbatim', () => {
    expect(configMap.data[CM_KEY]).toBe(readFileSync(HEALTH_LUA, 'utf8'));
  });

  // One lua process per case, one after the other: on a loaded 2-core machine that outlasts
  // jest's 5 s default (seen in a full unit run beside integration tests).
  it('the embedded copy gives the same health on every case', async () => {
    const embedded = runner.file('embedded-health.lua', configMap.data[CM_KEY]!);
    for (const testCase of cases) {
      expect(await health(embedded, input(testCase.inputPath))).toEqual(testCase.healthStatus);
    }
  }, 60_000);
});
