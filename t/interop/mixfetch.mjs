// mixfetch.mjs — the official @nymproject/mix-fetch 1.4.1, unmodified, under Node.js, as
// doc/spec/socks5.md §13.3 says: its web worker bundle evaluated in this thread behind a few
// shims, driven over Comlink. It fetches each --url through the mixnet (topology and gateway
// from --api) via the network requester --requester, and prints one JSON line per event:
//   {"event":"ready","ms":N}
//   {"event":"fetched","url":U,"status":S,"length":L,"sha256":H,"ms":N}
//   {"event":"error","url":U,"message":M}
// Usage: node mixfetch.mjs --api URL --requester ADDRESS [--client-id ID] [--timeout-ms N]
//        [--post-file FILE] --url URL [--url URL ...]
// (--post-file: each fetch is a POST of that file's bytes.)
import './lib/env.mjs'; // fake IndexedDB, the tolerant WebSocket, CloseEvent, crypto
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = { url: [] };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, ''), v = process.argv[i + 1];
  if (k === 'url') args.url.push(v); else args[k] = v;
}
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const t0 = Date.now();
if (!args.api || !args.requester || !args.url.length) {
  console.error('usage: node mixfetch.mjs --api URL --requester ADDRESS --url URL ...');
  process.exit(2);
}

// The worker logs every step with console.log: keep stdout for our JSON lines.
const log = console.log;
console.log = process.env.INTEROP_DEBUG ? (...a) => console.error(...a) : () => {};
console.info = console.debug = console.log;
console.warn = process.env.INTEROP_DEBUG ? console.warn : () => {};

// A worker's globals, in this thread.
globalThis.self = globalThis;
const bus = new EventTarget();
globalThis.addEventListener = bus.addEventListener.bind(bus);
globalThis.removeEventListener = bus.removeEventListener.bind(bus);
globalThis.dispatchEvent = bus.dispatchEvent.bind(bus);
const waiting = new Map();
let loaded;
const loadedP = new Promise((r) => { loaded = r; });
globalThis.postMessage = (msg) => {
  if (msg && msg.kind === 'Loaded') return loaded();
  const w = msg && waiting.get(msg.id);
  if (!w) return;
  waiting.delete(msg.id);
  if (msg.type === 'HANDLER' && msg.name === 'throw') {
    const v = msg.value && msg.value.value;
    w.reject(new Error((v && (v.message || v)) || 'failed'));
  } else w.resolve(msg.value);
};
// The worker fetch()es its two wasm files by file: URL; undici refuses those.
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const u = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (u && u.startsWith('file:'))
    return Promise.resolve(new Response(readFileSync(fileURLToPath(u)),
      { headers: { 'content-type': 'application/wasm' } }));
  return realFetch(input, init);
};

let nextId = 1;
const call = (name, ...argv) => new Promise((resolve, reject) => {
  const id = String(nextId++);
  waiting.set(id, { resolve, reject });
  globalThis.dispatchEvent(new MessageEvent('message', {
    data: { id, type: 'APPLY', path: [name], argumentList: argv.map((value) => ({ type: 'RAW', value })) },
  }));
});

const require = createRequire(import.meta.url);
const dir = require.resolve('@nymproject/mix-fetch/package.json').replace(/package\.json$/, '');
await import(pathToFileURL(dir + 'web-worker-0.js').href);
await loadedP;

const timeout = Number(args['timeout-ms'] || 20000);
try {
  await call('setupMixFetch', {
    clientId: args['client-id'] || 'nymkit-interop',
    nymApiUrl: args.api,
    forceTls: false,
    preferredNetworkRequester: args.requester,
    clientOverride: {
      topology: { disableRefreshing: true },
      statsReporting: { enabled: false },
      traffic: { disableMainPoissonPacketDistribution: true, maximumNumberOfRetransmissions: 0 },
      coverTraffic: { disableLoopCoverTrafficStream: true },
    },
    mixFetchOverride: { requestTimeoutMs: timeout },
    // every body as bytes, whatever its type
    responseBodyConfigMap: { uint8array: [/./], fallback: 'uint8array' },
  });
} catch (e) {
  out({ event: 'error', message: `setupMixFetch: ${e.message}` });
  process.exit(1);
}
out({ event: 'ready', ms: Date.now() - t0 });

let failed = 0;
const post = args['post-file'] ? readFileSync(args['post-file']) : null;
for (const url of args.url) {
  const t = Date.now();
  try {
    const init = { mode: 'unsafe-ignore-cors' }; // no `location` under Node (§13.3)
    if (post) Object.assign(init, { method: 'POST', body: post });
    const r = await call('mixFetch', url, init);
    const body = Buffer.from((r.body && r.body.uint8array) || (r.body && r.body.text) || []);
    out({ event: 'fetched', url, status: r.status, length: body.length,
      sha256: createHash('sha256').update(body).digest('hex'), text: body.length <= 200 ? body.toString() : undefined,
      ms: Date.now() - t });
  } catch (e) {
    failed++;
    out({ event: 'error', url, message: e.message });
  }
}
log; // (the real console.log, kept for debugging)
await call('disconnectMixFetch').catch(() => {});
process.exit(failed ? 1 : 0);
