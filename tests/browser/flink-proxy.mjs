// A plain static file server for Flink's own dashboard (the `web/` folder
// of flink-dist, never committed: tests/xtask extracts it into target/)
// that passes every other request to wflink's REST API, as Flink's
// JobManager serves both from one port. It records each API call and the
// status wflink answered, so a test can name what the dashboard asked for
// and did not get.
import { createServer, request } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/** The static file under `web` that `path` names, or null (then the request goes to wflink). */
function staticFile(web, path) {
  const name = path === '/' ? '/index.html' : decodeURIComponent(path);
  const file = normalize(join(web, name));
  if (!file.startsWith(web) || !existsSync(file) || !statSync(file).isFile()) return null;
  return file;
}

/**
 * Serves `web` on a free loopback port and proxies the rest to `upstream`
 * (`http://host:port`). Resolves to `{ url, calls, close }`: `calls` is the
 * list of `{ method, path, status }` of every proxied request, in order.
 */
export function serveFlinkDashboard(web, upstream) {
  const target = new URL(upstream);
  const calls = [];
  const server = createServer((req, res) => {
    const path = req.url.split('?')[0];
    const file = req.method === 'GET' ? staticFile(web, path) : null;
    if (file) {
      res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
    const call = { method: req.method, path: req.url, status: 0 };
    calls.push(call);
    // Host names wflink itself, as a proxy in front of it would set it (wflink refuses foreign hosts on changes).
    const headers = { ...req.headers, host: target.host };
    delete headers.origin;
    delete headers.referer;
    const upstreamReq = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (upstreamRes) => {
        call.status = upstreamRes.statusCode;
        res.writeHead(upstreamRes.statusCode, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on('error', (e) => {
      call.status = 502;
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [`proxy: ${e.message}`] }));
    });
    req.pipe(upstreamReq);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({ url, calls, close: () => new Promise((done) => server.close(done)) });
    });
  });
}
