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
import { build, type Plugin } from 'esbuild';
import { createRequire } from 'node:module';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(REPO, 'dist', 'bundle');

// Left to node_modules, each with the names src/ imports as values: etcd3 reads its .proto files
// next to its own code at run time (`${__dirname}/../proto/rpc.proto`), which a bundle cannot follow.
// It is loaded on first use, not at start: with no EtcdHealthCheck, or as the standby replica, the
// operator never dials etcd, and gRPC with etcd's parsed protos is ~14 MiB of RSS (BENCHMARKS.md).
const LAZY_EXTERNAL: Record<string, string[]> = { etcd3: ['Etcd3', 'EtcdPermissionDeniedError'] };
const EXTERNAL = Object.keys(LAZY_EXTERNAL);

/**
 * An esbuild plugin that makes each import of a lazy external a module of stand-ins: each named
 * class or function is a Proxy that require()s the real package (CommonJS, so synchronously) the
 * first time it is called, constructed, read or used with instanceof. A name src/ imports but the
 * list lacks fails the build ("No matching export"); a name that is not a function fails it too.
 */
const lazyExternals: Plugin = {
  name: 'lazy-externals',
  setup(bundle) {
    const filter = new RegExp(`^(${EXTERNAL.join('|')})$`);
    bundle.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'lazy-external' }));
    bundle.onLoad({ filter: /.*/, namespace: 'lazy-external' }, (args) => {
      const names = LAZY_EXTERNAL[args.path] ?? [];
      const real = createRequire(join(REPO, 'package.json'))(args.path) as Record<string, unknown>;
      const notFunctions = names.filter((name) => typeof real[name] !== 'function');
      if (notFunctions.length > 0) {
        return {
          errors: [
            { text: `${args.path}: ${notFunctions.join(', ')} not a class or function; cannot be lazy` },
          ],
        };
      }
      const contents = [
        `import { createRequire } from 'node:module';`,
        `let loaded;`,
        `const load = () => (loaded ??= createRequire(import.meta.url)(${JSON.stringify(args.path)}));`,
        `const lazy = (name) => new Proxy(function () {}, {`,
        `  construct: (_, args, newTarget) => Reflect.construct(load()[name], args, newTarget),`,
        `  apply: (_, self, args) => Reflect.apply(load()[name], self, args),`,
        `  get: (_, key) => Reflect.get(load()[name], key),`,
        `});`,
        ...names.map((name) => `export const ${name} = lazy(${JSON.stringify(name)});`),
      ].join('\n');
      return { contents, loader: 'js', resolveDir: REPO };
    });
  },
};

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
  plugins: [lazyExternals],
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
