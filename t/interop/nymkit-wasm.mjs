#!/usr/bin/env node
// nymkit-wasm.mjs — drives nymkit's OWN WebAssembly client (wasm/dist, `make wasm`) under
// Node.js with the command protocol of official.mjs, so the suites can run either client:
//   node nymkit-wasm.mjs --api URL [--client-id ID] [--cover] [--duration SECS] [--dist DIR]
//   stdin:  {"cmd":"send","hex":"..","to":"ADDR"}   {"cmd":"send_anonymous","hex":"..","to":"ADDR","surbs":N}
//           {"cmd":"reply","hex":"..","tag":"TAG"}  {"cmd":"quit"}   ("text" may replace "hex")
//   stdout: {"event":"ready","address":..,"ready_ms":N}
//           {"event":"received","len":N,"hex":..,"sha256":..,"sender_tag":<base58 or null>}
//           {"event":"ok","cmd":..,"id":..}  {"event":"acked","cmd":..,"ms":N}
//           {"event":"error","stage":..,"message":..}  {"event":"exit"}
// Its home is $NYM_HOME_DIR/.nym (keys in the official layout, so nym-keygen's work).
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const { values: opt } = parseArgs({
  options: {
    api: { type: 'string' },
    'client-id': { type: 'string', default: `nymkit-wasm-${process.pid}` },
    cover: { type: 'boolean', default: false },
    duration: { type: 'string', default: '60' },
    dist: { type: 'string', default: path.join(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../../wasm/dist') },
  },
});
if (!opt.api) { process.stderr.write('nymkit-wasm.mjs: --api URL is required\n'); process.exit(2); }

// Node < 21 has no global WebSocket: the interop suite's pinned `ws`.
if (typeof globalThis.WebSocket !== 'function') globalThis.WebSocket = (await import('ws')).WebSocket;

const t0 = Date.now();
const emit = (event, data = {}) =>
  process.stdout.write(JSON.stringify({ event, t: (Date.now() - t0) / 1000, ...data }) + '\n');

const { NymClient } = await import(pathToFileURL(path.join(path.resolve(opt.dist), 'nymkit.mjs')).href);

const onMessage = (msg, senderTag) => {
  const b = Buffer.from(msg);
  emit('received', { len: b.length, hex: b.length <= 65536 ? b.toString('hex') : undefined,
    sha256: createHash('sha256').update(b).digest('hex'), sender_tag: senderTag ?? null });
};

let client;
try {
  client = await new NymClient(onMessage, {
    clientId: opt['client-id'],
    nymApiUrl: opt.api.endsWith('/') ? opt.api : opt.api + '/',
    forceTls: false,
    clientOverride: {
      traffic: { disableMainPoissonPacketDistribution: !opt.cover },
      coverTraffic: { disableLoopCoverTrafficStream: !opt.cover },
    },
  });
  client.onWarning = (w) => process.stderr.write(`warning: ${w}\n`);
  emit('ready', { address: client.selfAddress(), ready_ms: client.readyMs });
} catch (e) {
  emit('error', { stage: 'start', message: String(e?.message ?? e) });
  process.exit(1);
}

const bytesOf = (c) => (c.hex !== undefined ? Buffer.from(c.hex, 'hex') : Buffer.from(c.text ?? '', 'utf8'));
const done = (code) => { emit('exit'); client.free(); setTimeout(() => process.exit(code), 50); };

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let c;
  try { c = JSON.parse(line); } catch { emit('error', { stage: 'command', message: 'not JSON' }); return; }
  try {
    const t = Date.now();
    const data = c.file ? (await import('node:fs')).readFileSync(c.file) : bytesOf(c);
    let id;
    if (c.cmd === 'send') id = await client.send_regular_message(new Uint8Array(data), c.to ?? client.selfAddress());
    else if (c.cmd === 'send_anonymous') id = await client.send_anonymous_message(new Uint8Array(data), c.to ?? client.selfAddress(), c.surbs ?? 10);
    else if (c.cmd === 'reply') id = await client.send_reply(new Uint8Array(data), c.tag);
    else if (c.cmd === 'quit') { done(0); return; }
    else { emit('error', { stage: 'command', message: `unknown command ${c.cmd}` }); return; }
    emit('ok', { cmd: c.cmd, id: c.id, len: data.length });
    // when all of it is acknowledged
    const tick = setInterval(() => {
      if (client.unacked() === 0) { clearInterval(tick); emit('acked', { cmd: c.cmd, id: c.id, ms: Date.now() - t }); }
    }, 5);
  } catch (e) {
    emit('error', { stage: c.cmd, message: String(e?.message ?? e) });
  }
});
rl.on('close', () => done(0));
setTimeout(() => done(0), Number(opt.duration) * 1000);
