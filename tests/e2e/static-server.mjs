// A tiny dependency-free static file server for the demo and the e2e tests.
//
// - binds to 127.0.0.1 only; GET and HEAD only;
// - serves files below `root` and nothing else (no `..` escape, no symlink escape,
//   no dot-files such as .git), `index.html` for directories, no listings;
// - correct MIME types, including `application/wasm` (needed by
//   WebAssembly.instantiateStreaming) and `text/javascript` for ES modules;
// - `Cache-Control: no-store`, so a rebuilt pkg/ is picked up on reload;
// - with `isolated: true`, the COOP/COEP headers of a cross-origin isolated page (the
//   benchmark's: its clock then has 5 µs steps instead of 100 µs).
//
// Library: `const { url, port, close } = await startServer({ root, port: 0 })`.
// CLI:     `node tests/e2e/static-server.mjs --root . --port 8080 --path /www/`
//          (PORT env is the default port; --path only changes the printed URL).

import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const HOST = '127.0.0.1';

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** The Content-Type for a file name. */
export function mimeType(file) {
  return MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Whether `child` is `parent` or inside it (both absolute and normalized). */
function isInside(parent, child) {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

/**
 * Starts the server. `port: 0` picks a free port.
 * Resolves with `{ server, url, port, close }` once it listens; `url` ends with `/`.
 */
export async function startServer({ root, port = 8080, quiet = true, isolated = false } = {}) {
  if (!root) throw new TypeError('startServer: root is required');
  const rootDir = await realpath(path.resolve(root));
  const log = quiet ? () => {} : (...args) => console.log(...args);

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log(`500 ${req.url}: ${err?.message ?? err}`);
      if (!res.headersSent) send(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });

  async function handle(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'Method Not Allowed');
    }
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(res, 400, 'Bad Request');
    }
    const segments = pathname.split('/');
    // No NUL bytes, no backslashes, no dot-segments or dot-files (.., .git, .ci ...).
    if (pathname.includes('\0') || pathname.includes('\\') || segments.some((s) => s.startsWith('.'))) {
      return send(res, 404, 'Not Found');
    }
    let file = path.resolve(rootDir, '.' + pathname);
    if (!isInside(rootDir, file)) return send(res, 404, 'Not Found');

    let info;
    try {
      file = await realpath(file); // a symlink must not lead out of the root either
      if (!isInside(rootDir, file)) return send(res, 404, 'Not Found');
      info = await stat(file);
      if (info.isDirectory()) {
        if (!pathname.endsWith('/')) {
          // Redirect /www to /www/ so relative URLs in index.html resolve correctly.
          const u = new URL(req.url ?? '/', 'http://localhost');
          res.setHeader('Location', u.pathname + '/' + u.search);
          return send(res, 301, 'Moved Permanently');
        }
        file = path.join(file, 'index.html');
        info = await stat(file);
      }
    } catch {
      log(`404 ${pathname}`);
      return send(res, 404, 'Not Found');
    }
    if (!info.isFile()) return send(res, 404, 'Not Found');

    log(`200 ${pathname}`);
    res.writeHead(200, {
      'Content-Type': mimeType(file),
      'Content-Length': info.size,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      // Cross-origin isolation: `performance.now()` then counts in 5 µs steps, not 100 µs.
      ...(isolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {}),
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  return {
    server,
    port: actualPort,
    url: `http://${HOST}:${actualPort}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

function send(res, status, text) {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

// --- CLI -------------------------------------------------------------------

function parseArgs(argv) {
  const opts = { root: '.', port: Number(process.env.PORT ?? 8080), path: '/' };
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (key === '--root') opts.root = value();
    else if (key === '--port') opts.port = Number(value());
    else if (key === '--path') opts.path = value();
    else if (key === '--verbose') opts.verbose = true;
    else throw new Error(`unknown argument ${argv[i]} (use --root DIR --port N --path /www/ --verbose)`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new Error(`invalid port: ${opts.port}`);
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let srv;
  try {
    srv = await startServer({ root: opts.root, port: opts.port, quiet: !opts.verbose });
  } catch (err) {
    const hint = err?.code === 'EADDRINUSE' ? ` (port ${opts.port} is in use; set PORT to another one)` : '';
    console.error(`static-server: cannot start: ${err?.message ?? err}${hint}`);
    process.exit(1);
  }
  const page = new URL(opts.path.replace(/^\/*/, ''), srv.url).href;
  console.log(`Serving ${path.resolve(opts.root)} on ${srv.url} (127.0.0.1 only)`);
  console.log(`Open ${page}`);
  console.log('Press Ctrl+C to stop.');
  const stop = async () => {
    await srv.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  main();
}
