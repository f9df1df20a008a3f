import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { downloadToTemp, placeStaged } from '../../src/net/download.js';
import { DownloadError } from '../../src/net/errors.js';
import { bypassesProxy, openTunnel, proxyFor } from '../../src/net/proxy.js';
import type { NetSettings } from '../../src/net/settings.js';
import { tempDir } from '../helpers/cli.js';
import { closedPort, startServer, type FakeServer } from './fakeServer.js';

const fast: NetSettings = { retries: 2, backoffMs: 1, timeoutMs: 2000, maxBytes: 1024 * 1024 };
const BODY = Buffer.from('0123456789'.repeat(2000));
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('downloadToTemp', () => {
  let server: FakeServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it('stages the body in a hidden sibling, hashed, and places it only on placeStaged', async () => {
    server.routes.set('/ok.bin', { kind: 'body', body: BODY });
    const dir = await tempDir();
    const target = join(dir, 'sub', 'ok.bin');
    const s = await downloadToTemp(`${server.url}/ok.bin`, target, { net: fast, label: 'ok.bin' });
    assert.ok(s);
    assert.equal(s.sha256, sha(BODY));
    assert.equal(s.bytes, BODY.length);
    assert.equal(join(s.tmp, '..'), join(dir, 'sub'));
    assert.match(s.tmp, /\/\.ok\.bin\.\d+-[0-9a-f]+\.part$/);
    assert.deepEqual(await readdir(join(dir, 'sub')), [s.tmp.split('/').pop()]);
    await placeStaged(s);
    assert.deepEqual(await readdir(join(dir, 'sub')), ['ok.bin']);
    assert.deepEqual(await readFile(target), BODY);
  });

  it('retries a connection dropped halfway and then succeeds', async () => {
    server.routes.set('/drop-once.bin', { kind: 'drop', body: BODY, times: 1 });
    const dir = await tempDir();
    const s = await downloadToTemp(`${server.url}/drop-once.bin`, join(dir, 'f.bin'), { net: fast, label: 'f' });
    assert.equal(s?.sha256, sha(BODY));
    assert.equal(server.hitsFor('/drop-once.bin'), 2);
  });

  it('gives up on a connection that keeps dropping, with a clear error and no file left behind', async () => {
    server.routes.set('/drop-always.bin', { kind: 'drop', body: BODY, times: 1000 });
    const dir = await tempDir();
    await assert.rejects(
      downloadToTemp(`${server.url}/drop-always.bin`, join(dir, 'f.bin'), { net: fast, label: 'f' }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'broken' && /gave up after 3 attempts/.test(e.message),
    );
    assert.equal(server.hitsFor('/drop-always.bin'), 3);
    assert.deepEqual(await readdir(dir), []);
  });

  it('retries 503 and succeeds; fails a 404 at once, or answers null when the file is optional', async () => {
    server.routes.set('/busy.bin', { kind: 'status', status: 503, times: 1, body: 'fine' });
    const dir = await tempDir();
    const s = await downloadToTemp(`${server.url}/busy.bin`, join(dir, 'busy.bin'), { net: fast, label: 'busy' });
    assert.equal(s?.sha256, sha('fine'));
    await assert.rejects(
      downloadToTemp(`${server.url}/nothing.bin`, join(dir, 'n.bin'), { net: fast, label: 'n' }),
      (e: unknown) => e instanceof DownloadError && e.status === 404 && !/gave up/.test(e.message),
    );
    assert.equal(server.hitsFor('/nothing.bin'), 1);
    assert.equal(await downloadToTemp(`${server.url}/nothing.bin`, join(dir, 'n.bin'), { net: fast, label: 'n', allowMissing: true }), null);
  });

  it('never hangs on a server that goes silent mid-body', async () => {
    server.routes.set('/stall.bin', { kind: 'stall', body: BODY });
    const dir = await tempDir();
    const t0 = Date.now();
    await assert.rejects(
      downloadToTemp(`${server.url}/stall.bin`, join(dir, 'f.bin'), { net: { ...fast, retries: 1, timeoutMs: 150 }, label: 'f' }),
      (e: unknown) => e instanceof DownloadError && /no data from .* for 0\.15s/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(await readdir(dir), []);
  });

  it('reports an unreachable host as such', async () => {
    const port = await closedPort();
    await assert.rejects(
      downloadToTemp(`http://127.0.0.1:${port}/x`, join(await tempDir(), 'x'), { net: { ...fast, retries: 1 }, label: 'x' }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'unreachable' && /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/.test(e.message),
    );
  });

  it('refuses a body larger than the cap without retrying', async () => {
    server.routes.set('/big.bin', { kind: 'body', body: BODY });
    const dir = await tempDir();
    await assert.rejects(
      downloadToTemp(`${server.url}/big.bin`, join(dir, 'f.bin'), { net: fast, label: 'f', maxBytes: 100 }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'too-large',
    );
    assert.equal(server.hitsFor('/big.bin'), 1);
  });

  it('follows redirects and sends Authorization to the first host only', async () => {
    // 127.0.0.1 and localhost are the same server but different hosts, like the Hub and its CDN.
    server.routes.set('/hub/file', { kind: 'redirect', location: `http://localhost:${server.port}/cdn/file` });
    server.routes.set('/cdn/file', { kind: 'body', body: 'payload' });
    const s = await downloadToTemp(`${server.url}/hub/file`, join(await tempDir(), 'file'), {
      net: fast,
      label: 'file',
      headers: { authorization: 'Bearer secret' },
    });
    assert.equal(s?.sha256, sha('payload'));
    const hub = server.hits.filter((h) => h.url === '/hub/file').pop();
    const cdn = server.hits.filter((h) => h.url === '/cdn/file').pop();
    assert.equal(hub?.headers.authorization, 'Bearer secret');
    assert.equal(cdn?.headers.authorization, undefined);
  });

  it('goes through $HTTP_PROXY with an absolute-URI request, and not for $NO_PROXY hosts', async () => {
    const proxy = await startServer();
    const target = `http://upstream.invalid/data/x.json`;
    proxy.routes.set('/data/x.json', { kind: 'body', body: '{"via":"proxy"}' });
    try {
      const s = await downloadToTemp(target, join(await tempDir(), 'x.json'), {
        net: fast,
        label: 'x',
        env: { HTTP_PROXY: `http://user:pw@127.0.0.1:${proxy.port}` },
      });
      assert.equal(s?.sha256, sha('{"via":"proxy"}'));
      const hit = proxy.hits.pop();
      assert.equal(hit?.url, target);
      assert.equal(hit?.headers.host, 'upstream.invalid');
      assert.equal(hit?.headers['proxy-authorization'], `Basic ${Buffer.from('user:pw').toString('base64')}`);
    } finally {
      await proxy.close();
    }
  });
});

describe('proxy settings', () => {
  it('picks the variable by scheme, lower case first, and honours NO_PROXY', () => {
    const env = { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2', HTTP_PROXY: 'proxy:3', NO_PROXY: 'internal.example,.corp,10.0.0.1:8080' };
    assert.equal(proxyFor(new URL('https://huggingface.co/x'), env)?.host, 'lower:1');
    assert.equal(proxyFor(new URL('http://people.eecs.berkeley.edu/x'), env)?.href, 'http://proxy:3/');
    assert.equal(proxyFor(new URL('https://internal.example/x'), env), undefined);
    assert.equal(proxyFor(new URL('https://a.b.corp/x'), env), undefined);
    assert.ok(proxyFor(new URL('http://10.0.0.1:9090/x'), env));
    assert.equal(proxyFor(new URL('http://10.0.0.1:8080/x'), env), undefined);
    assert.equal(proxyFor(new URL('https://x.org/'), {}), undefined);
    assert.equal(bypassesProxy(new URL('https://anything/'), '*'), true);
    assert.equal(bypassesProxy(new URL('https://notcorp.org/'), 'corp.org'), false);
  });

  it('opens a CONNECT tunnel and carries bytes both ways', async () => {
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as AddressInfo).port;
    const connects: string[] = [];
    const proxy = http.createServer();
    proxy.on('connect', (req, client) => {
      connects.push(`${req.url} ${req.headers['proxy-authorization'] ?? ''}`);
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = new URL(`http://u:p@127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    try {
      const socket = await openTunnel(proxyUrl, '127.0.0.1', echoPort, 2000);
      const reply = await new Promise<string>((resolve) => {
        socket.once('data', (d) => resolve(d.toString()));
        socket.write('ping through the tunnel');
      });
      socket.destroy();
      assert.equal(reply, 'ping through the tunnel');
      assert.deepEqual(connects, [`127.0.0.1:${echoPort} Basic ${Buffer.from('u:p').toString('base64')}`]);
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
      await new Promise<void>((r) => echo.close(() => r()));
    }
  });

  it('reports a proxy that refuses the tunnel', async () => {
    const proxy = http.createServer();
    proxy.on('connect', (_req, client) => client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n'));
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      await assert.rejects(
        openTunnel(new URL(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`), 'example.org', 443, 2000),
        (e: unknown) => e instanceof DownloadError && e.status === 407 && /refused the tunnel/.test(e.message),
      );
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});
