// Images for pods on the test node (harness/node.ts), as archives for `ctr images import`:
// - etcd: the control plane's static etcd binary alone in an OCI image layout, made like the
//   pause image of test/node/build.sh (one uncompressed layer, named by the
//   io.containerd.image.name annotation) and cached by the binary's digest;
// - the operator: built from the Dockerfile by harness/image.ts and exported with buildah, cached by
//   the digest of the build's inputs.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { etcdBinary } from './binaries.js';
import { buildah, buildOperatorImage, ensureStandIns } from './image.js';
import { makeTempDir, removeTempDir } from './process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(
  process.env.EHC_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'etcd-health-operator'),
  'node-images',
);

function run(command: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 * 2 ** 20 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`))
          : resolve(stdout),
    );
  });
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Tars `dir`'s contents reproducibly (what build.sh does for the pause image). */
const tarDir = (dir: string, out: string, entries: string[]) =>
  run('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '-C',
    dir,
    '-cf',
    out,
    ...entries,
  ]);

export interface ImageArchive {
  /** The name containerd gives the imported image. */
  ref: string;
  path: string;
}

/** The etcd image: /usr/local/bin/etcd (etcd 3.6 from the control-plane build) and nothing else. */
export async function etcdImage(): Promise<ImageArchive> {
  const binary = etcdBinary('3.6');
  const digest = sha256(binary).slice(0, 16);
  const ref = `localhost/etcd-health-operator/etcd:${digest}`;
  const path = join(CACHE, `etcd-${digest}.tar`);
  if (existsSync(path)) return { ref, path };
  const work = makeTempDir('etcd-image');
  try {
    const rootfs = join(work, 'rootfs');
    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(join(rootfs, 'usr', 'local', 'bin'), { recursive: true });
    mkdirSync(blobs, { recursive: true });
    copyFileSync(binary, join(rootfs, 'usr', 'local', 'bin', 'etcd'));
    await tarDir(rootfs, join(work, 'layer.tar'), ['usr']);
    const blob = (file: string) => {
      const hash = sha256(file);
      copyFileSync(file, join(blobs, hash));
      return { digest: `sha256:${hash}`, size: statSync(file).size };
    };
    const layer = blob(join(work, 'layer.tar'));
    writeFileSync(
      join(work, 'config.json'),
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Entrypoint: ['/usr/local/bin/etcd'] },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    );
    const config = blob(join(work, 'config.json'));
    writeFileSync(
      join(work, 'manifest.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    );
    const manifest = blob(join(work, 'manifest.json'));
    writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifest,
            platform: { architecture: 'amd64', os: 'linux' },
            annotations: {
              'io.containerd.image.name': ref,
              'org.opencontainers.image.ref.name': digest,
            },
          },
        ],
      }),
    );
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    mkdirSync(CACHE, { recursive: true });
    // Renamed into place, so a concurrent run never imports half a file.
    await tarDir(layout, join(work, 'image.tar'), ['.']);
    renameSync(join(work, 'image.tar'), path);
    return { ref, path };
  } finally {
    removeTempDir(work);
  }
}

/** The files the Dockerfile copies (and itself): what decides the operator image's contents. */
function buildInputs(): string[] {
  const files = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'hack/bundle.ts'];
  for (const entry of readdirSync(REPO)) if (/^tsconfig.*\.json$/.test(entry)) files.push(entry);
  const walk = (path: string): string[] =>
    statSync(join(REPO, path)).isDirectory()
      ? readdirSync(join(REPO, path)).flatMap((entry) => walk(join(path, entry)))
      : [path];
  return [...files.filter((file) => existsSync(join(REPO, file))), ...walk('src')].sort();
}

/**
 * The operator image built from the Dockerfile (harness/image.ts), as an OCI archive, cached by
 * the digest of what the build reads: a changed source file or lock file builds it again. The
 * buildah tag is per run (concurrent runs share the cached buildah storage) and removed once
 * exported.
 */
export async function operatorImage(runroot: string): Promise<ImageArchive> {
  const hash = createHash('sha256');
  for (const file of buildInputs()) hash.update(`${file}\0`).update(readFileSync(join(REPO, file)));
  const digest = hash.digest('hex').slice(0, 16);
  const ref = `localhost/etcd-health-operator:node-e2e-${digest}`;
  const path = join(CACHE, `operator-${digest}.tar`);
  if (existsSync(path)) return { ref, path };
  const buildRef = `${ref}-${process.pid}`;
  const work = makeTempDir('operator-image');
  try {
    await ensureStandIns(runroot);
    await buildOperatorImage(runroot, buildRef);
    // Named `ref` in the archive, whatever the build called it.
    await buildah(runroot, ['push', buildRef, `oci-archive:${join(work, 'image.tar')}:${ref}`], {
      timeoutMs: 300_000,
    });
    mkdirSync(CACHE, { recursive: true });
    renameSync(join(work, 'image.tar'), path);
    return { ref, path };
  } finally {
    await buildah(runroot, ['rmi', '--force', buildRef]).catch(() => undefined);
    removeTempDir(work);
  }
}
