// The kubeconfig side of `etcd-health check ehc/NAME`, before any request: a file that cannot be
// loaded and a context it does not have are named, with what there is instead.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClusterCheck } from '../../src/cli/from-cluster.js';

function kubeconfig(dir: string): string {
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [
        { name: 'admin@prod', context: { cluster: 'c', user: 'u', namespace: 'etcd' } },
        { name: 'admin@test', context: { cluster: 'c', user: 'u' } },
      ],
      'current-context': 'admin@prod',
    }),
  );
  return path;
}

describe('loadClusterCheck', () => {
  it('names a kubeconfig it cannot load', async () => {
    const result = await loadClusterCheck({
      name: 'etcd',
      kubeconfig: '/nonexistent/kubeconfig',
      compare: false,
    });
    expect(result).toEqual({
      ok: false,
      error: expect.stringMatching(/^cannot load \/nonexistent\/kubeconfig: /),
    });
  });

  it('names a context the kubeconfig does not have, and the ones it has', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'from-cluster-'));
    try {
      const result = await loadClusterCheck({
        name: 'etcd',
        kubeconfig: kubeconfig(dir),
        context: 'admin@staging',
        compare: false,
      });
      expect(result).toEqual({
        ok: false,
        error: `--context admin@staging: no such context in ${join(dir, 'kubeconfig')} (it has admin@prod, admin@test)`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
