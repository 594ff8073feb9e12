// `npm run bundle`: the image's JavaScript, one esbuild bundle of both entry points instead of the
// tsc output and node_modules. @kubernetes/client-node's index loads every generated API and model
// (~80 MiB RSS on its own); a bundle keeps only what src/ reaches and is one file to compile instead
// of ~1800 modules (BENCHMARKS.md, "Footprint"). The npm package keeps the tsc output (`npm run build`).
//
// Output in dist/bundle/, laid out as the npm package is so that the image keeps its entry points:
//   src/cli/operator.js, src/cli/check.js   the entry points (operator.js imports check.js for `check`)
//   chunks/*.js                              code shared by both, loaded once
//   package.json                             "type": "module" and the external dependencies only:
//                                            the image's `npm prune` keeps exactly those
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(REPO, 'dist', 'bundle');

// Left to node_modules: etcd3 reads its .proto files next to its own code at run time
// (`${__dirname}/../proto/rpc.proto`), which a bundle cannot follow.
const EXTERNAL = ['etcd3'];

// CommonJS inside an ESM bundle calls require() for node's built-ins; ESM has no require of its
// own, so each output file gets one (esbuild's documented pattern for --format=esm with CJS inputs).
const REQUIRE_SHIM =
  "import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);";

interface PackageJson {
  name: string;
  version: string;
  dependencies: Record<string, string>;
}

rmSync(OUT, { recursive: true, force: true });
const result = await build({
  absWorkingDir: REPO,
  entryPoints: ['src/cli/operator.ts', 'src/cli/check.ts'],
  outbase: '.',
  outdir: OUT,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external: EXTERNAL,
  banner: { js: REQUIRE_SHIM },
  // Names stay readable in stack traces and logs (err.name, class names); only whitespace goes.
  minifyWhitespace: true,
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as PackageJson;
const missing = EXTERNAL.filter((name) => pkg.dependencies[name] === undefined);
if (missing.length > 0) throw new Error(`external ${missing.join(', ')} not in package.json dependencies`);
const runtimePackage = {
  name: pkg.name,
  version: pkg.version,
  private: true,
  type: 'module',
  dependencies: Object.fromEntries(EXTERNAL.map((name) => [name, pkg.dependencies[name]])),
};
writeFileSync(join(OUT, 'package.json'), `${JSON.stringify(runtimePackage, null, 2)}\n`);
// What went into the bundle, by input file (bench/footprint.ts reads it); not part of the image.
writeFileSync(join(REPO, 'dist', 'bundle-meta.json'), JSON.stringify(result.metafile));

const outputs = Object.entries(result.metafile.outputs);
const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
console.log(`bundled ${outputs.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB, into ${OUT}`);
