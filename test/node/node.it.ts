// The node harness: a kubelet on containerd joins the test control plane and becomes Ready; a pod
// with the locally built pause image is scheduled, runs with an IP from the CNI bridge's range,
// and is gone after deletion; the bridge is in the node's network namespace, not the machine's;
// stopping the node with a pod running leaves no process, mount, network namespace, bridge or
// cgroup behind.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { eventually } from '../harness/eventually.js';
import { apiErrorStatus } from '../harness/kube.js';
import { PAUSE_IMAGE, startNode, type Node } from '../harness/node.js';
import { cleanupAll } from '../harness/process.js';

let cp: ControlPlane;
let node: Node;
let core: CoreV1Api;
const suiteStarted = Date.now();
/** Host paths containerd and the kubelet write to unless kept in their own mount namespaces. */
const HOST_PATHS = ['/run/containerd', '/var/lib/cni', '/var/lib/kubelet', '/var/log/containers'];
const hostPathsBefore = HOST_PATHS.filter((path) => existsSync(path));

beforeAll(async () => {
  cp = await startControlPlane({ crdFiles: [] });
  node = await startNode(cp);
  core = cp.kubeConfig.makeApiClient(CoreV1Api);
}, 300_000);

afterAll(async () => {
  try {
    await node?.stop();
  } finally {
    await cp?.stop();
    await cleanupAll();
    console.log(`node suite: ${Math.round((Date.now() - suiteStarted) / 1000)}s`);
  }
});

const pausePod = (name: string): V1Pod => ({
  metadata: { name },
  spec: {
    containers: [{ name: 'pause', image: PAUSE_IMAGE, imagePullPolicy: 'Never' }],
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: 5,
  },
});

const waitForRunning = (namespace: string, name: string) =>
  eventually(
    async () => {
      const pod = await core.readNamespacedPod({ namespace, name });
      return pod.status?.phase === 'Running' && pod;
    },
    { timeoutMs: 120_000, description: `pod ${name} Running` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- kubelet ---\n${node.logTail('kubelet', 30)}`, { cause: error });
  });

/** Whether an IPv4 address lies in a /24 given as a.b.c.0/24. */
const inSubnet = (ip: string, subnet: string) => ip.startsWith(subnet.replace(/0\/24$/, ''));

describe('node harness', () => {
  it('registers a Ready node', async () => {
    const registered = await core.readNode({ name: node.name });
    const ready = registered.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).toBe('True');
    expect(registered.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/2\./);
  });

  it('runs a pause pod with an IP from the bridge range, and deletes it', async () => {
    const ns = await cp.createNamespace('node-it');
    await core.createNamespacedPod({ namespace: ns, body: pausePod('pause') });
    const running = await waitForRunning(ns, 'pause');
    expect(running.spec?.nodeName).toBe(node.name);
    expect(inSubnet(running.status?.podIP ?? '', node.podSubnet)).toBe(true);
    expect(existsSync(`/sys/class/net/${node.bridge}`)).toBe(false);
    const nodeLinks = execFileSync('nsenter', [`--net=${node.netns}`, 'ip', '-o', 'link', 'show'], {
      encoding: 'utf8',
    });
    expect(nodeLinks).toContain(`${node.bridge}:`);

    await core.deleteNamespacedPod({ namespace: ns, name: 'pause' });
    await eventually(
      async () => {
        try {
          await core.readNamespacedPod({ namespace: ns, name: 'pause' });
          return false;
        } catch (error) {
          return apiErrorStatus(error).code === 404;
        }
      },
      { timeoutMs: 120_000, description: 'pod pause gone' },
    );
  });

  it('stops with a pod still running, leaving no process, mount, network namespace, bridge or cgroup behind', async () => {
    const ns = await cp.createNamespace('node-stop');
    await core.createNamespacedPod({ namespace: ns, body: pausePod('still-running') });
    await waitForRunning(ns, 'still-running');
    const { dir, cgroupRoot, bridge } = node;
    const netnsLink = `net:[${statSync(node.netns).ino}]`;
    expect(processesIn(netnsLink).length).toBeGreaterThan(0);
    await node.stop();
    expect(processesMentioning(dir)).toEqual([]);
    expect(processesIn(netnsLink)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
    expect(existsSync(`/sys/fs/cgroup/memory${cgroupRoot}`)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/cpu${cgroupRoot}`)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/unified${cgroupRoot}`)).toBe(false);
    expect(existsSync(`/sys/class/net/${bridge}`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(HOST_PATHS.filter((path) => existsSync(path))).toEqual(hostPathsBefore);
  });
});

/** PIDs whose command line names `text` (containerd's shims name the node's socket). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** PIDs whose network namespace is `link` (as /proc/<pid>/ns/net reads, e.g. net:[4026532173]). */
function processesIn(link: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/net`) === link;
      } catch {
        return false;
      }
    })
    .map(Number);
}
