// Re-renders the Markdown of saved runs: npx tsx bench/render.ts bench/results/<time>.json ...
import { readFileSync } from 'node:fs';
import { renderMarkdown } from './report.js';
import type { BenchReport } from './types.js';

for (const path of process.argv.slice(2)) {
  process.stdout.write(`${renderMarkdown(JSON.parse(readFileSync(path, 'utf8')) as BenchReport)}\n`);
}
