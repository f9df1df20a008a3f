import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { DownloadError } from './errors.js';

/**
 * Proxy support without a new dependency. Node 20's built-in fetch ignores HTTP(S)_PROXY and the
 * `undici` package (whose EnvHttpProxyAgent would honour them) is not importable from Node itself, so the
 * downloader uses node:http/https and does what curl does:
 *
 * - http:// targets go to the proxy as absolute-URI requests (`GET http://host/path`);
 * - https:// targets go through a `CONNECT host:443` tunnel, then TLS to the target end to end;
 * - `https_proxy`/`HTTPS_PROXY` for https targets, `http_proxy`/`HTTP_PROXY` for http targets (the
 *   lower-case spelling wins, as in curl), `all_proxy`/`ALL_PROXY` for both when those are unset;
 * - `no_proxy`/`NO_PROXY`: comma-separated hosts or domain suffixes (`example.com`, `.example.com`,
 *   `host:port`), or `*` for none; credentials in the proxy URL become a Basic Proxy-Authorization.
 */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const scheme = target.protocol === 'https:' ? 'https' : 'http';
  const raw =
    env[`${scheme}_proxy`] || env[`${scheme.toUpperCase()}_PROXY`] || env.all_proxy || env.ALL_PROXY || undefined;
  if (!raw) return undefined;
  if (bypassesProxy(target, env.no_proxy ?? env.NO_PROXY ?? '')) return undefined;
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new DownloadError(target.href, `the proxy setting "${raw}" is not a URL; fix ${scheme.toUpperCase()}_PROXY`, 'unreachable');
  }
}

export function bypassesProxy(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (const rawEntry of noProxy.split(/[,\s]+/)) {
    const entry = rawEntry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!m) continue;
    const entryHost = m[1]!.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (m[2] && m[2] !== port) continue;
    if (host === entryHost || host.endsWith(`.${entryHost}`)) return true;
  }
  return false;
}

/** `Proxy-Authorization` for `http://user:pass@proxy:port`, else nothing. */
export function proxyAuthHeader(proxy: URL): Record<string, string> {
  if (!proxy.username && !proxy.password) return {};
  const creds = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(creds).toString('base64')}` };
}

/** Open a `CONNECT host:port` tunnel through `proxy` and hand back the raw socket. */
export function openTunnel(proxy: URL, host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const mod = proxy.protocol === 'https:' ? https : http;
    const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const req = mod.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuthHeader(proxy) },
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`proxy ${proxy.host} did not answer in ${timeoutMs / 1000}s`), { code: 'ETIMEDOUT' })));
    req.once('connect', (res, socket) => {
      req.setTimeout(0);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new DownloadError(`https://${authority}`, `proxy ${proxy.host} refused the tunnel (HTTP ${res.statusCode})`, 'http', res.statusCode));
        return;
      }
      resolve(socket);
    });
    req.once('error', reject);
    req.end();
  });
}
