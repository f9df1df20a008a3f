import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An in-process HTTP server on 127.0.0.1 (port 0) for the download tests: static bodies by path, plus
 * per-path behaviours (drop the connection halfway, stall, fail with a status, redirect) and a log of
 * every request with its headers.
 */
export type Behaviour =
  | { kind: 'body'; body: Buffer | string; headers?: Record<string, string> }
  /** Send the headers and half the body, then cut the connection. `times` drops, then serve normally. */
  | { kind: 'drop'; body: Buffer | string; times: number }
  /** Send the headers and a little of the body, then go silent (keep the socket open). */
  | { kind: 'stall'; body: Buffer | string }
  | { kind: 'status'; status: number; times?: number; body?: Buffer | string }
  | { kind: 'redirect'; location: string; status?: number; headers?: Record<string, string> };

export interface Hit {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export interface FakeServer {
  url: string;
  port: number;
  routes: Map<string, Behaviour>;
  hits: Hit[];
  hitsFor(path: string): number;
  close(): Promise<void>;
}

export async function startServer(routes: Map<string, Behaviour> = new Map()): Promise<FakeServer> {
  const hits: Hit[] = [];
  const counts = new Map<string, number>();
  const served = new WeakMap<Behaviour, number>();
  const sockets = new Set<Socket>();
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.push({ method: req.method ?? 'GET', url: req.url ?? '', headers: req.headers });
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const b = routes.get(path);
    // Each behaviour object counts its own requests, so `times` holds however often the path was hit before.
    const n = b ? (served.get(b) ?? 0) + 1 : 0;
    if (b) served.set(b, n);
    if (!b) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    switch (b.kind) {
      case 'body':
        res.writeHead(200, { 'content-length': String(Buffer.byteLength(b.body)), ...b.headers }).end(b.body);
        return;
      case 'drop': {
        const body = Buffer.from(b.body);
        res.writeHead(200, { 'content-length': String(body.length) });
        if (n > b.times) {
          res.end(body);
          return;
        }
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.socket?.destroy(), 5));
        return;
      }
      case 'stall': {
        const body = Buffer.from(b.body);
        res.writeHead(200, { 'content-length': String(body.length) });
        res.write(body.subarray(0, 1));
        return;
      }
      case 'status':
        if (b.times !== undefined && n > b.times) {
          const body = Buffer.from(b.body ?? '');
          res.writeHead(200, { 'content-length': String(body.length) }).end(body);
          return;
        }
        res.writeHead(b.status, { 'content-type': 'text/plain' }).end(`status ${b.status}`);
        return;
      case 'redirect':
        res.writeHead(b.status ?? 302, { location: b.location, ...b.headers }).end();
        return;
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    routes,
    hits,
    hitsFor: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
