// Scratch projects for the runtime tests: the package as users get it (`npm pack` of the
// built pkg/, installed from the tarball into a new folder under .tmp/runtimes), child
// processes that must exit by themselves, and a static server for browser pages.
import { execFile, spawn } from 'node:child_process';
import { readFile, rename } from 'node:fs/promises';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../..');
export const TOOLS = join(here, 'node_modules');
const TMP = join(ROOT, '.tmp', 'runtimes');
const run = promisify(execFile);

/** The packed tarball of pkg/ (packed again when pkg/package.json is newer). */
export async function tarball() {
  const pkgDir = join(ROOT, 'pkg');
  const manifest = join(pkgDir, 'package.json');
  if (!existsSync(manifest)) throw new Error('no pkg/: run `bash .ci/test` or the build stage first');
  if (!JSON.parse(await readFile(manifest, 'utf8')).exports) {
    throw new Error('pkg/package.json has no exports map: run node .ci/finish-pkg.mjs');
  }
  const out = join(TMP, 'pack');
  const file = join(out, 'package.tgz');
  if (existsSync(file) && statSync(file).mtimeMs >= statSync(manifest).mtimeMs) return file;
  mkdirSync(out, { recursive: true });
  const { stdout } = await run('npm', ['pack', pkgDir, '--json', '--pack-destination', out]);
  const [{ filename }] = JSON.parse(stdout);
  const packed = join(out, filename.replace(/^@.*\//, '').replace('/', '-'));
  await rename(packed, file);
  return file;
}

/**
 * A new project folder `.tmp/runtimes/<name>` with the tarball installed as a dependency
 * (`extra` adds package.json fields) and `files` ({ path: text }) written into it.
 */
export async function scratchProject(name, files = {}, extra = {}) {
  const tgz = await tarball();
  const dir = join(TMP, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const manifest = { name: `scratch-${name}`, private: true, type: 'module', ...extra };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tgz], { cwd: dir });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/**
 * Runs `cmd args` in `cwd` and resolves with { code, stdout, stderr, exited } once it exits,
 * or kills it after `limitMs` (then `exited` is false: the process would have hung).
 */
export function runToExit(cmd, args, { cwd, limitMs = 60_000, env } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let exited = true;
    const timer = setTimeout(() => {
      exited = false;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, exited });
    });
  });
}

/** The lines `RESULT {json}` a script printed, parsed. */
export function results(stdout) {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('RESULT '))
    .map((l) => JSON.parse(l.slice('RESULT '.length)));
}
