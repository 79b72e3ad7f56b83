#!/usr/bin/env node
// Turns the pkg/ that `wasm-pack build --target web` writes into the npm package users get:
//   - an `exports` map: `types`, `browser` and `default` (the web build: `init()` fetches the
//     .wasm beside it), `node` (node.js below: `init()` reads the .wasm from disk), plus the
//     .wasm itself (workerd imports it as a module) and package.json;
//   - node.js, the Node entry: the web build's exports, and a default `init` that reads the
//     .wasm file when it is given nothing to load;
//   - LICENSE-MIT, LICENSE-APACHE and the user README from the repository root;
//   - no placeholder fields (`repository`, `homepage`, `bugs` pointing at example hosts).
// Idempotent. Usage: node .ci/finish-pkg.mjs [pkg-dir]   (default: pkg/ of the repository)
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = resolve(process.argv[2] ?? join(root, 'pkg'));
const manifestPath = join(dir, 'package.json');
const pkg = JSON.parse(await readFile(manifestPath, 'utf8'));

const main = pkg.module ?? pkg.main;
const types = pkg.types;
if (!main || !types) throw new Error(`${manifestPath}: no module/types entry (not a --target web build?)`);
const stem = main.replace(/\.js$/, '');
const wasm = `${stem}_bg.wasm`;
const nodeEntry = 'node.js';

await writeFile(
  join(dir, nodeEntry),
  `// Node entry of ${pkg.name}: the web build, with a default init() that reads the .wasm
// from disk (Node's fetch has no file: URLs). init(input) with an input loads that instead.
import webInit from './${main}';

export * from './${main}';

/** Loads the WebAssembly module: from \`input\` when given, else from the .wasm file. */
export default async function init(input) {
  if (input !== undefined) return webInit(input);
  const { readFile } = await import('node:fs/promises');
  return webInit({ module_or_path: await readFile(new URL('./${wasm}', import.meta.url)) });
}
`,
);

for (const file of ['LICENSE-MIT', 'LICENSE-APACHE', 'README.md']) {
  await copyFile(join(root, file), join(dir, file));
}

const placeholder = (v) => JSON.stringify(v ?? '').match(/example\.(invalid|com|org)|placeholder/i);
for (const field of ['repository', 'homepage', 'bugs']) {
  if (field in pkg && placeholder(pkg[field])) delete pkg[field];
}
pkg.license = pkg.license ?? 'MIT OR Apache-2.0';
pkg.type = 'module';
pkg.exports = {
  '.': {
    types: `./${types}`,
    browser: `./${main}`,
    node: `./${nodeEntry}`,
    default: `./${main}`,
  },
  [`./${wasm}`]: `./${wasm}`,
  './package.json': './package.json',
};
pkg.files = [...new Set([...(pkg.files ?? []), nodeEntry, 'LICENSE-MIT', 'LICENSE-APACHE', 'README.md'])];
await writeFile(manifestPath, `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`finish-pkg: ${manifestPath} (exports: ${Object.keys(pkg.exports['.']).join(', ')})`);
