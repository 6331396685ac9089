// Gzipped size of the inbox's initial JavaScript: the entry chunk and its static imports
// (not the lazy chunks). Writes dist/bundle-size.json and fails above the limit.
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const LIMIT = 204800;
const dist = new URL('../dist/', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, '.vite/manifest.json'), 'utf8'));

const seen = new Set();
function visit(key) {
  if (seen.has(key)) return;
  seen.add(key);
  for (const imp of manifest[key].imports ?? []) visit(imp);
}
visit('index.html');

const files = [...seen].map((key) => manifest[key].file).filter((f) => f.endsWith('.js'));
let total = 0;
const perFile = {};
for (const file of files) {
  const size = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  perFile[file] = size;
  total += size;
}
const report = { initial_js_gzip_bytes: total, limit: LIMIT, files: perFile };
writeFileSync(join(dist, 'bundle-size.json'), JSON.stringify(report, null, 2) + '\n');
console.log(`initial JS (gzip): ${total} bytes (limit ${LIMIT})`);
if (total > LIMIT) {
  console.error('The inbox initial JS is above the limit.');
  process.exit(1);
}
