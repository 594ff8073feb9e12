// The informer's paged LIST against a real kube-apiserver: the continue tokens are the server's
// own, the pages are one snapshot (an object created between two pages is not in them), and the
// watch resumes from that snapshot, so the object arrives once, through the watch.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GROUP, PLURAL, VERSION } from '../../src/api/v1alpha1/index.js';
import { Informer, keyOf } from '../../src/runtime/informer.js';
import type { KubeObject, ListRequest } from '../../src/runtime/reflector.js';
import { customResourceSource } from '../../src/runtime/resources.js';
import { checksApi, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { eventually } from '../harness/eventually.js';
import { cleanupAll } from '../harness/process.js';
import { RecordingLogger } from './helpers.js';

const ns = 'paging';
const names = ['ehc-0', 'ehc-1', 'ehc-2', 'ehc-3', 'ehc-4'];
// Sorts after every listed name, so a LIST that was not one snapshot would return it on the last page.
const BETWEEN = 'ehc-between';
const spec = { etcd: { endpoints: ['https://127.0.0.1:2379'] } };

let cp: ControlPlane;
let checks: Checks;

beforeAll(async () => {
  cp = await startControlPlane();
  checks = checksApi(cp.kubeConfig);
  await cp.createNamespace(ns);
  for (const name of names) await checks.create(ns, name, spec);
});

afterAll(async () => {
  await cleanupAll();
});

describe('a paged LIST on a real kube-apiserver', () => {
  it('pages with the server’s continue tokens as one snapshot, and the watch delivers what was created between pages once', async () => {
    const source = customResourceSource<KubeObject>(cp.kubeConfig, {
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: ns,
    });
    const requests: ListRequest[] = [];
    const list = async (request: ListRequest) => {
      requests.push(request);
      const page = await source.list(request);
      if (requests.length === 1) await checks.create(ns, BETWEEN, spec);
      return page;
    };
    const informer = new Informer<KubeObject>({
      kubeConfig: cp.kubeConfig,
      path: source.path,
      list,
      pageSize: 2,
      log: new RecordingLogger(),
    });
    const added: string[] = [];
    informer.addHandlers({ add: (object) => added.push(keyOf(object)) });
    informer.start();
    try {
      expect(await informer.waitForSync(60_000)).toBe(true);
      expect(requests.map((request) => request.limit)).toEqual([2, 2, 2]);
      expect(requests[0]!.continue).toBeUndefined();
      expect(requests.slice(1).every((request) => (request.continue ?? '').length > 0)).toBe(true);

      await eventually(() => added.length === names.length + 1, {
        timeoutMs: 60_000,
        description: `${BETWEEN} through the watch`,
      });
      expect(added).toEqual([...names, BETWEEN].map((name) => `${ns}/${name}`));
      expect(informer.list()).toHaveLength(names.length + 1);
      // Nothing relisted: the watch started from the paged snapshot's resourceVersion.
      expect(requests).toHaveLength(3);
    } finally {
      await informer.stop();
    }
  });
});
