import http, { type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { DownloadError } from './errors.js';
import { openTunnel, proxyAuthHeader, proxyFor } from './proxy.js';

export interface GetOptions {
  headers?: Record<string, string>;
  /** Idle limit for connecting and for waiting for the response head. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  maxRedirects?: number;
}

export interface OpenResponse {
  res: IncomingMessage;
  /** The URL that finally answered (after redirects). */
  url: string;
  /** The headers of every response of the redirect chain, first first (Hub metadata sits on the first). */
  chain: IncomingHttpHeaders[];
}

const USER_AGENT = 'flan-eval (+https://github.com/; node)';

/**
 * GET `url`, following redirects, through the environment's proxy. Resolves with the first response that
 * is not a redirect, whatever its status; the caller reads or discards its body.
 *
 * Authorization headers are sent to the first host only: the Hub redirects large files to a CDN that must
 * not see the user's token (browsers and huggingface_hub do the same).
 */
export async function openGet(url: string, opts: GetOptions): Promise<OpenResponse> {
  const first = new URL(url);
  let current = first;
  const chain: IncomingHttpHeaders[] = [];
  const maxRedirects = opts.maxRedirects ?? 10;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity', ...opts.headers };
    if (current.host !== first.host) {
      for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
    }
    const res = await requestOnce(current, headers, opts.timeoutMs, opts.env ?? process.env);
    chain.push(res.headers);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && status !== 304 && location) {
      res.resume();
      if (hop >= maxRedirects) throw new DownloadError(url, `more than ${maxRedirects} redirects`, 'http', status);
      const next = new URL(location, current);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new DownloadError(url, `redirected to an unsupported URL ${next.href}`, 'http', status);
      }
      current = next;
      continue;
    }
    return { res, url: current.href, chain };
  }
}

function requestOnce(url: URL, headers: Record<string, string>, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new DownloadError(url.href, 'only http:// and https:// URLs can be downloaded', 'http'));
  }
  const proxy = proxyFor(url, env);
  const isHttps = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (isHttps ? 443 : 80));
  return new Promise<IncomingMessage>((resolve, reject) => {
    const send = (mod: typeof http | typeof https, options: RequestOptions) => {
      const req = mod.request({ ...options, method: 'GET' });
      req.setTimeout(timeoutMs, () =>
        req.destroy(Object.assign(new Error(`no answer from ${url.host} in ${timeoutMs / 1000}s`), { code: 'ETIMEDOUT' })),
      );
      req.once('response', (res) => {
        // From here on the downloader's own idle watchdog takes over.
        req.setTimeout(0);
        resolve(res);
      });
      req.once('error', reject);
      req.end();
    };
    if (!proxy) {
      send(isHttps ? https : http, { host: hostname, port, path: url.pathname + url.search, headers });
    } else if (!isHttps) {
      send(proxy.protocol === 'https:' ? https : http, {
        host: proxy.hostname.replace(/^\[|\]$/g, ''),
        port: Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80)),
        path: url.href,
        headers: { ...headers, host: url.host, ...proxyAuthHeader(proxy) },
      });
    } else {
      openTunnel(proxy, hostname, port, timeoutMs).then(
        (socket) =>
          send(https, {
            host: hostname,
            port,
            path: url.pathname + url.search,
            headers,
            // SNI takes host names only.
            createConnection: () => tls.connect({ socket, ...(isIP(hostname) ? {} : { servername: hostname }) }),
          }),
        reject,
      );
    }
  });
}
