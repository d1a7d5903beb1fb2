// nymkit.mjs — nymkit's Nym client for JavaScript: the protocol is nymkit's C core compiled
// to WebAssembly (nymkit.wasm, wasm/nymwasm.c); this file is its I/O and API only: the
// gateway websocket, nym-api fetches, timers, key storage. The API is that of
// @nymproject/nym-client-wasm 1.4.1, so code switches by its import line:
//   const client = await new NymClient(onMessage, { clientId, nymApiUrl, forceTls,
//                                                    preferredGateway, clientOverride });
//   client.selfAddress(); client.send_regular_message(u8, recipient);
//   client.send_anonymous_message(u8, recipient, replySurbs); client.send_reply(u8, senderTag);
//   client.free();   // closes the gateway connection
//   onMessage(u8, senderTag)  // senderTag: base58 string, or undefined for plain messages
// Runs in browsers (best in a Worker: background tabs throttle timers) and in Node >= 18.
import nymkitCore from './nymkit-core.mjs';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

// ---- the module, loaded once ---------------------------------------------------------------
let corePromise = null;
const clients = new Map(); // C pointer -> NymClient

async function randomSource() {
  let c = globalThis.crypto;
  if (!c?.getRandomValues) c = (await import('node:crypto')).webcrypto;
  // Pooled: one getRandomValues call per 4 KiB instead of per request.
  const pool = new Uint8Array(4096);
  let pos = pool.length;
  return (dst) => {
    let off = 0;
    while (off < dst.length) {
      if (pos === pool.length) { c.getRandomValues(pool); pos = 0; }
      const n = Math.min(dst.length - off, pool.length - pos);
      dst.set(pool.subarray(pos, pos + n), off);
      pool.fill(0, pos, pos + n);
      pos += n; off += n;
    }
  };
}

async function loadCore() {
  const random = await randomSource();
  const url = new URL('./nymkit.wasm', import.meta.url);
  let wasmBinary;
  if (isNode) {
    const { readFile } = await import('node:fs/promises');
    wasmBinary = await readFile(url);
  } else {
    wasmBinary = new Uint8Array(await (await fetch(url)).arrayBuffer());
  }
  const M = await nymkitCore({
    wasmBinary,
    nwRandom: (p, n) => random(M.HEAPU8.subarray(p, p + n)),
    // libsodium's own stir asks for this (and would look for window/self/require otherwise)
    getRandomValue: () => { const b = new Uint8Array(4); random(b); return new DataView(b.buffer).getUint32(0); },
    nwOut: (c, kind, a, alen, b, blen) => clients.get(c)?._out(kind, a, alen, b, blen),
    print: () => {}, printErr: () => {},
  });
  if (M._nw_init() < 0) throw new Error('nymkit: libsodium did not start');
  return M;
}
function core() { return (corePromise ??= loadCore()); }

// ---- small memory helpers ------------------------------------------------------------------
function put(M, bytes) {
  const p = M._nw_malloc(bytes.length);
  M.HEAPU8.set(bytes, p);
  return p;
}
function putStr(M, s) {
  const n = M.lengthBytesUTF8(s) + 1;
  const p = M._nw_malloc(n);
  M.stringToUTF8(s, p, n);
  return p;
}
function withMem(M, fn) {
  const ptrs = [];
  const alloc = { bytes: (b) => (ptrs.push(put(M, b)), ptrs.at(-1)),
                  str: (s) => (ptrs.push(putStr(M, s)), ptrs.at(-1)),
                  buf: (n) => (ptrs.push(M._nw_malloc(n)), ptrs.at(-1)) };
  try { return fn(alloc); } finally { for (const p of ptrs) M._nw_free(p); }
}
function errText(M, e) { return M.UTF8ToString(M._nw_strerror(e)); }

function b58encode(M, bytes) {
  return withMem(M, (a) => {
    const out = a.buf(100);
    if (M._nw_b58_encode(out, 100, a.bytes(bytes), bytes.length) < 0) throw new Error('base58');
    return M.UTF8ToString(out);
  });
}
function b58decode(M, s, len) {
  return withMem(M, (a) => {
    const out = a.buf(len + 8);
    const n = M._nw_b58_decode(out, len + 8, a.str(s));
    if (n !== len) throw new Error(`not a base58 string of ${len} bytes: ${s}`);
    return M.HEAPU8.slice(out, out + len);
  });
}

// ---- storage: files in the official layout on Node, IndexedDB in browsers ------------------
const PEM = {
  identity: ['private_identity.pem', 'ED25519 PRIVATE KEY'],
  identityPub: ['public_identity.pem', 'ED25519 PUBLIC KEY'],
  encryption: ['private_encryption.pem', 'X25519 PRIVATE KEY'],
  encryptionPub: ['public_encryption.pem', 'X25519 PUBLIC KEY'],
  ack: ['ack_key.pem', 'AES-128-CTR ACKNOWLEDGEMENTS KEY'],
  gateway: ['gateway_identity.pem', 'ED25519 PUBLIC KEY'],
  shared: ['gateway_shared_key.pem', 'AES-256-GCM-SIV GATEWAY SHARED KEY'],
};

async function nodeStore(clientId, home) {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const os = await import('node:os');
  const base = home ?? path.join(process.env.NYM_HOME_DIR || os.homedir(), '.nym');
  const dir = path.join(base, 'clients', clientId, 'data');
  return {
    dir,
    async get(name) { try { return await fs.readFile(path.join(dir, name), 'utf8'); } catch { return null; } },
    async put(name, text) {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = path.join(dir, `.${name}.tmp${process.pid}`);
      await fs.writeFile(tmp, text, { mode: 0o600 });
      await fs.rename(tmp, path.join(dir, name));
    },
  };
}

async function idbStore(clientId) {
  const db = await new Promise((res, rej) => {
    const r = indexedDB.open(`nymkit-${clientId}`, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('files');
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  const tx = (mode, f) => new Promise((res, rej) => {
    const t = db.transaction('files', mode);
    const q = f(t.objectStore('files'));
    t.oncomplete = () => res(q.result ?? null);
    t.onerror = () => rej(t.error);
  });
  return {
    dir: `indexeddb:nymkit-${clientId}`,
    get: (name) => tx('readonly', (s) => s.get(name)),
    put: (name, text) => tx('readwrite', (s) => s.put(text, name)),
  };
}

function memStore() {
  const m = new Map();
  return { dir: 'memory', get: async (n) => m.get(n) ?? null, put: async (n, t) => { m.set(n, t); } };
}

async function openStore(clientId, home) {
  if (isNode) return nodeStore(clientId, home);
  if (typeof indexedDB !== 'undefined') return idbStore(clientId);
  return memStore();
}

function pemDecode(M, text, label, len) {
  return withMem(M, (a) => {
    const out = a.buf(len);
    const e = M._nw_pem_decode(out, len, a.str(label), a.str(text));
    if (e < 0) throw new Error(`bad PEM (${label}): ${errText(M, e)}`);
    return M.HEAPU8.slice(out, out + len);
  });
}
function pemEncode(M, label, bytes) {
  return withMem(M, (a) => {
    const p = M._nw_pem_encode(a.str(label), a.bytes(bytes), bytes.length);
    if (!p) throw new Error('PEM encoding failed');
    const s = M.UTF8ToString(p);
    M._nw_free(p);
    return s;
  });
}

// ---- the websocket ---------------------------------------------------------------------------
async function webSocketClass() {
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  const mod = await import('ws');
  return mod.WebSocket ?? mod.default;
}

// ---- nym-api ---------------------------------------------------------------------------------
async function getText(base, route) {
  const r = await fetch(new URL(route, base), { headers: { accept: 'application/json' } });
  if (!r.ok) throw new Error(`GET ${route}: HTTP ${r.status}`);
  return r.text();
}

// The nym-api answers the topology is built from, as [kind, text] (kinds of nw_api_add).
async function fetchApi(M, base) {
  if (!base.endsWith('/')) base += '/';
  const out = [];
  const pages = async (kind, route) => {
    for (let page = 0, seen = 0; ; page++) {
      const t = await getText(base, `${route}?page=${page}`);
      const [n, total] = withMem(M, (a) => {
        const tot = a.buf(4);
        const bytes = new TextEncoder().encode(t);
        const k = M._nw_api_page(a.bytes(bytes), bytes.length, tot);
        return [k, new Uint32Array(M.HEAPU8.buffer, tot, 1)[0]];
      });
      out.push([kind, t]);
      seen += Math.max(n, 0);
      if (n <= 0 || seen >= total || page > 100) break;
    }
  };
  const [rs] = await Promise.all([
    getText(base, 'v1/nym-nodes/rewarded-set'),
    pages(1, 'v2/unstable/nym-nodes/skimmed/mixnodes/active'),
    pages(2, 'v2/unstable/nym-nodes/skimmed/entry-gateways'),
    getText(base, 'v1/epoch/key-rotation-info').then((t) => out.push([3, t]), () => { /* optional */ }),
  ]);
  out.push([0, rs]);
  return out;
}

// Build client c's topology from those answers.
function setTopology(M, c, answers) {
  const ptrs = [];
  try {
    for (const [kind, text] of answers) {
      const bytes = new TextEncoder().encode(text);
      const p = put(M, bytes);
      ptrs.push(p);
      const e = M._nw_api_add(c, kind, p, bytes.length);
      if (e < 0) throw new Error(errText(M, e));
    }
    if (M._nw_api_done(c) < 0) throw new Error(`topology: ${M.UTF8ToString(M._nw_error(c))}`);
  } finally {
    for (const p of ptrs) M._nw_free(p);
  }
}

// ---- the client ------------------------------------------------------------------------------
export class NymClient {
  // Returns a promise (as the official constructor): await new NymClient(...).
  constructor(onMessage, opts = {}) {
    return this._start(onMessage, opts).then(() => this);
  }

  async _start(onMessage, opts) {
    const M = (this._M = await core());
    this._onMessage = onMessage;
    const o = opts.clientOverride ?? {};
    const traffic = o.traffic ?? {};
    const cover = o.coverTraffic ?? {};
    const poisson = !traffic.disableMainPoissonPacketDistribution;
    const loop = !cover.disableLoopCoverTrafficStream;
    const sendMean = poisson ? (traffic.averagePacketDelayMs ?? traffic.messageSendingAverageDelayMs ?? 20) : 0;
    const loopMean = loop ? (cover.loopCoverTrafficAverageDelayMs ?? 200) : 0;
    const clientId = opts.clientId ?? 'nymkit-wasm';
    const store = (this._store = await openStore(clientId, opts.nymHome));

    // keys: the official on-disk layout (a nym-keygen key set works), made when missing
    let secrets;
    const idp = await store.get(PEM.identity[0]);
    if (idp) {
      const enc = await store.get(PEM.encryption[0]);
      const ack = await store.get(PEM.ack[0]);
      if (!enc || !ack) throw new Error(`incomplete key set in ${store.dir}`);
      secrets = new Uint8Array(80);
      secrets.set(pemDecode(M, idp, PEM.identity[1], 32), 0);
      secrets.set(pemDecode(M, enc, PEM.encryption[1], 32), 32);
      secrets.set(pemDecode(M, ack, PEM.ack[1], 16), 64);
    } else {
      secrets = withMem(M, (a) => {
        const p = a.buf(80);
        const e = M._nw_keygen(p);
        if (e < 0) throw new Error(errText(M, e));
        return M.HEAPU8.slice(p, p + 80);
      });
      const pub = withMem(M, (a) => {
        const p = a.buf(64);
        M._nw_pubkeys(a.bytes(secrets), p);
        return M.HEAPU8.slice(p, p + 64);
      });
      await store.put(PEM.identity[0], pemEncode(M, PEM.identity[1], secrets.subarray(0, 32)));
      await store.put(PEM.identityPub[0], pemEncode(M, PEM.identityPub[1], pub.subarray(0, 32)));
      await store.put(PEM.encryption[0], pemEncode(M, PEM.encryption[1], secrets.subarray(32, 64)));
      await store.put(PEM.encryptionPub[0], pemEncode(M, PEM.encryptionPub[1], pub.subarray(32, 64)));
      await store.put(PEM.ack[0], pemEncode(M, PEM.ack[1], secrets.subarray(64, 80)));
    }
    let gateway = null, shared = null;
    const gwp = await store.get(PEM.gateway[0]);
    if (gwp) {
      gateway = pemDecode(M, gwp, PEM.gateway[1], 32);
      const sk = await store.get(PEM.shared[0]);
      if (sk) shared = pemDecode(M, sk, PEM.shared[1], 32);
    } else if (opts.preferredGateway) {
      gateway = b58decode(M, opts.preferredGateway, 32);
    }
    // A provisional client (any gateway) fetches the topology; the real one follows.
    const t0 = Date.now();
    const mk = (gw, key) => withMem(M, (a) => M._nw_new(a.bytes(secrets), a.bytes(gw),
      key ? a.bytes(key) : 0, sendMean, poisson ? 1 : 0, loopMean, this._now()));
    const answers = await fetchApi(M, opts.nymApiUrl ?? 'https://validator.nymtech.net/api/');
    let c = mk(gateway ?? new Uint8Array(32), shared);
    if (!c) throw new Error('nymkit: cannot create the client');
    try { setTopology(M, c, answers); } catch (e) { M._nw_destroy(c); throw e; }
    let url = withMem(M, (a) => {
      const pick = a.buf(32);
      const p = M._nw_gateway_url(c, gateway ? a.bytes(gateway) : 0, pick);
      if (!gateway && p) gateway = M.HEAPU8.slice(pick, pick + 32);
      return p ? M.UTF8ToString(p) : null;
    });
    if (!url) { M._nw_destroy(c); throw new Error('nymkit: the gateway is not in the topology'); }
    if (!gwp) {
      // the real client, at the gateway chosen, over the same answers
      M._nw_destroy(c);
      c = mk(gateway, null);
      if (!c) throw new Error('nymkit: cannot create the client');
      setTopology(M, c, answers);
    }
    if (opts.forceTls && url.startsWith('ws://')) url = 'wss://' + url.slice(5);
    this._c = c;
    clients.set(c, this);
    this._address = withMem(M, (a) => {
      const p = a.buf(200);
      M._nw_address(c, p, 200);
      return M.UTF8ToString(p);
    });
    this._url = url;
    this._WS = await webSocketClass();
    this._closed = false;
    this._timer = null;
    this.readyMs = 0;
    await this._connect();
    this.readyMs = Date.now() - t0;
  }

  _now() { return (globalThis.performance?.now() ?? Date.now()) + 1; }

  _connect() {
    return new Promise((resolve, reject) => {
      const M = this._M;
      this._readyWait = { resolve, reject };
      const ws = (this._ws = new this._WS(this._url));
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => { M._nw_open(this._c, Date.now() / 1000, this._now()); };
      ws.onmessage = (ev) => {
        if (this._closed) return;
        const bin = typeof ev.data !== 'string';
        const bytes = bin ? new Uint8Array(ev.data) : new TextEncoder().encode(ev.data);
        withMem(M, (a) => M._nw_frame(this._c, bin ? 1 : 0, a.bytes(bytes), bytes.length,
          Date.now() / 1000, this._now()));
        this._kick();
      };
      ws.onerror = () => {};
      ws.onclose = () => {
        if (this._closed) return;
        M._nw_closed(this._c, this._now());
        const w = this._readyWait;
        if (w && M._nw_state(this._c) === 8) { this._readyWait = null; w.reject(new Error(this._fatal)); return; }
        setTimeout(() => { if (!this._closed) this._connect().catch(() => {}); }, 1000);
      };
    });
  }

  // Events from C (wasm/nymwasm.c's js_out).
  _out(kind, a, alen, b, blen) {
    const M = this._M;
    const bytes = () => M.HEAPU8.slice(a, a + alen);
    switch (kind) {
      case 1: this._ws.send(new TextDecoder().decode(bytes())); break;
      case 2: this._ws.send(bytes()); break;
      case 3:
        if (this._readyWait) { const w = this._readyWait; this._readyWait = null; w.resolve(); }
        this._kick();
        break;
      case 4: {
        const data = bytes();
        const tag = blen === 16 ? b58encode(M, M.HEAPU8.slice(b, b + 16)) : undefined;
        queueMicrotask(() => this._onMessage?.(data, tag));
        break;
      }
      case 5: {
        const key = bytes(), gw = M.HEAPU8.slice(b, b + 32);
        this._store.put(PEM.shared[0], pemEncode(M, PEM.shared[1], key))
          .then(() => this._store.put(PEM.gateway[0], pemEncode(M, PEM.gateway[1], gw)))
          .catch((e) => console.error('nymkit: cannot store the gateway key:', e.message));
        break;
      }
      case 6: if (this.onWarning) this.onWarning(M.UTF8ToString(a, alen)); break;
      case 7: {
        this._fatal = M.UTF8ToString(a, alen);
        if (this._readyWait) { const w = this._readyWait; this._readyWait = null; w.reject(new Error(this._fatal)); }
        try { this._ws.close(); } catch { /* already */ }
        break;
      }
      case 8: break;
    }
  }

  // Let the C core do what is due and sleep until its next deadline.
  _kick() {
    if (this._closed || this._polling) return;
    this._polling = true;
    queueMicrotask(() => {
      this._polling = false;
      if (this._closed) return;
      clearTimeout(this._timer);
      const us = this._M._nw_poll(this._c, this._now(), this._ws?.bufferedAmount ?? 0);
      if (us >= 0) this._timer = setTimeout(() => this._kick(), Math.max(0, Math.ceil(us / 1000)));
    });
  }

  selfAddress() { return this._address; }

  _check(r) {
    if (r < 0) throw new Error(`nymkit: ${errText(this._M, r)}`);
    this._kick();
    return r;
  }

  send_regular_message(message, recipient) {
    const M = this._M;
    return Promise.resolve(this._check(withMem(M, (a) =>
      M._nw_send(this._c, a.str(recipient), a.bytes(message), message.length, -1, this._now()))));
  }

  send_anonymous_message(message, recipient, replySurbs = 10) {
    const M = this._M;
    return Promise.resolve(this._check(withMem(M, (a) =>
      M._nw_send(this._c, a.str(recipient), a.bytes(message), message.length, replySurbs, this._now()))));
  }

  send_reply(message, senderTag) {
    const M = this._M;
    const tag = typeof senderTag === 'string' ? b58decode(M, senderTag, 16) : senderTag;
    return Promise.resolve(this._check(withMem(M, (a) =>
      M._nw_reply(this._c, a.bytes(tag), a.bytes(message), message.length, this._now()))));
  }

  // Fragments not acknowledged yet (0: everything sent has arrived).
  unacked() { return this._M._nw_unacked(this._c); }

  free() {
    if (this._closed) return;
    this._closed = true;
    clearTimeout(this._timer);
    try { this._ws?.close(); } catch { /* already */ }
    clients.delete(this._c);
    this._M._nw_destroy(this._c);
    this._c = 0;
  }
}

// ---- payload helpers, as 1.4.1: 8-byte big-endian length of a JSON header, the header, data --
export function encode_payload(mimeType, payload, headers) {
  const h = new TextEncoder().encode(JSON.stringify({ mimeType, headers: headers ?? null }));
  const out = new Uint8Array(8 + h.length + payload.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length));
  out.set(h, 8);
  out.set(payload, 8 + h.length);
  return out;
}

export function encode_payload_with_headers(mimeType, payload, headers) {
  return encode_payload(mimeType, payload, headers);
}

export function decode_payload(message) {
  const n = Number(new DataView(message.buffer, message.byteOffset, 8).getBigUint64(0));
  const meta = JSON.parse(new TextDecoder().decode(message.subarray(8, 8 + n)));
  return { mimeType: meta.mimeType, headers: meta.headers ?? undefined, payload: message.slice(8 + n) };
}

export function parse_utf8_string(u8) { return new TextDecoder().decode(u8); }
export function utf8_string_to_byte_array(s) { return new TextEncoder().encode(s); }
// Load and compile the module now (the constructor does it on first use), as the official
// package's default export init() does.
export async function init() { await core(); }

// For make bench: milliseconds to build n 4-hop Sphinx packets in the wasm core.
export async function bench_sphinx(n) {
  const M = await core();
  const t = performance.now();
  const e = M._nw_bench_sphinx(n);
  if (e < 0) throw new Error(errText(M, e));
  return performance.now() - t;
}

export default NymClient;
