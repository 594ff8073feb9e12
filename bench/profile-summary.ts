// Summarizes a V8 CPU profile (from `npm run bench -- --cpu-prof DIR`): self time by package or
// project file, and the top functions. Usage: npx tsx bench/profile-summary.ts FILE.cpuprofile
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** "grpc-js", "src/sources/prometheus/client.js", "(gc)", "node:internal/..." */
function owner(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const project = /\/((?:src|bench)\/.*)$/.exec(url);
  if (project) return project[1]!;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url;
}

// The part of the operator a sample belongs to: the first frame, from the leaf up, whose owner
// matches. Socket and zlib callbacks land under the client that reads them (axios, grpc-js, ...).
const CATEGORIES: [RegExp, string][] = [
  [
    /^(axios|follow-redirects|form-data|proxy-from-env)$|^src\/sources\/prometheus\//,
    'Prometheus source (axios, zlib, sockets)',
  ],
  [
    /^(@grpc\/|etcd3|cockatiel|@js-sdsl|protobufjs|@protobufjs)|^src\/sources\/etcd\//,
    'etcd source (grpc-js, http2 dials)',
  ],
  [
    /^(@kubernetes\/client-node|node-fetch|ws|jsonpath|openid-client|hpagent)|^src\/runtime\/|^src\/kube\//,
    'Kubernetes API (client-node)',
  ],
  [/^prom-client$|^src\/observability\//, 'own /metrics (prom-client)'],
  [/^pino|^sonic-boom|^thread-stream/, 'logging (pino)'],
  [
    /^src\/health\/|^src\/controller\/status-change|^src\/controller\/transitions/,
    'analysis + change detection',
  ],
  [/^zod$/, 'zod (other)'],
  [/^src\//, 'other project code'],
];

function categorize(owners: string[]): string {
  for (const who of owners) for (const [pattern, name] of CATEGORIES) if (pattern.test(who)) return name;
  if (owners[0] === '(garbage collector)') return '(garbage collector)';
  return 'node internals / unattributed';
}

function summarize(path: string): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = profile.endTime - profile.startTime;
  const idleUs = [...selfUs]
    .filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)')
    .reduce((a, [, us]) => a + us, 0);
  const busyUs = totalUs - idleUs;
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const byCategory = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
    const owners: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      owners.push(owner(frame.url, frame.functionName));
    }
    const category = categorize(owners);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
  }
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    const who = owner(frame.url, frame.functionName);
    byOwner.set(who, (byOwner.get(who) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} ${who}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, us]) =>
          `  ${((100 * us) / busyUs).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(1).padStart(7)} s  ${k}`,
      )
      .join('\n');
  return [
    `${path}: ${(totalUs / 1e6).toFixed(0)} s profiled, ${(busyUs / 1e6).toFixed(1)} s on the main thread (not idle)`,
    'by part of the operator (leaf-to-root attribution):',
    top(byCategory, 12),
    'self time by package / project file:',
    top(byOwner, 25),
    'top functions:',
    top(byFunction, 25),
  ].join('\n');
}

for (const path of process.argv.slice(2)) process.stdout.write(`${summarize(path)}\n\n`);
