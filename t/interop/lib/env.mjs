// env.mjs — what Node lacks that the browser build of the official client expects.
// The npm package is a wasm-bindgen "--target web" build; under Node it needs:
//   IndexedDB       -> fake-indexeddb (in memory: a client id's keys live as long as the process)
//   WebSocket       -> the `ws` package, with browser-like handler semantics (below)
//   CloseEvent      -> a minimal event class
//   crypto          -> node:crypto's Web Crypto on Node 18, which has no global one
import 'fake-indexeddb/auto';
import WebSocket from 'ws';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { webcrypto } from 'node:crypto';

if (!globalThis.crypto) globalThis.crypto = webcrypto;

// A browser reports, and otherwise ignores, an exception thrown by a websocket event handler;
// Node would crash. The client depends on the browser's way (a handler of a socket it already
// dropped may fire late), so every handler is wrapped.
const tolerant = (fn) => (typeof fn !== 'function' ? fn : function (...args) {
  try { return fn.apply(this, args); } catch (e) {
    if (process.env.INTEROP_DEBUG) console.error(`[env] websocket handler threw: ${e.message}`);
  }
});
// Every socket the client opens is remembered until it closes, so that a harness can cut a
// client's gateway connection (NymClient.free() leaves it open).
export const openSockets = new Set();
class TolerantWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    openSockets.add(this);
    super.addEventListener('close', () => openSockets.delete(this));
  }
  addEventListener(type, fn, o) { return super.addEventListener(type, tolerant(fn), o); }
}
for (const name of ['onopen', 'onmessage', 'onerror', 'onclose']) {
  const d = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
  Object.defineProperty(TolerantWebSocket.prototype, name, {
    configurable: true, enumerable: true,
    get() { return d.get.call(this); },
    set(fn) { d.set.call(this, tolerant(fn)); },
  });
}
globalThis.WebSocket = TolerantWebSocket;

if (!globalThis.CloseEvent) {
  globalThis.CloseEvent = class extends Event {
    constructor(type, init = {}) {
      super(type, init);
      this.code = init.code ?? 0;
      this.reason = init.reason ?? '';
      this.wasClean = init.wasClean ?? false;
    }
  };
}

// The package's default loader fetch()es the .wasm by URL; hand it the bytes instead.
// Returns the module and the instance's exports (its linear memory is needed to read
// the bytes of an AnonymousSenderTag, which 1.4.1 hands over as an opaque object).
export async function loadOfficialClient() {
  const require = createRequire(import.meta.url);
  const dir = require.resolve('@nymproject/nym-client-wasm/package.json').replace(/package\.json$/, '');
  const mod = await import('@nymproject/nym-client-wasm');
  const exports = mod.initSync({ module: readFileSync(dir + 'nym_client_wasm_bg.wasm') });
  return { nym: mod, exports };
}
