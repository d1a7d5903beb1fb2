#!/usr/bin/env node
// official.mjs — drives the OFFICIAL Nym client (npm @nymproject/nym-client-wasm 1.4.1, its
// WebAssembly build) under Node.js, for nymkit's interop suite. It is the referee: bytes that
// cross between it and nymkit's tools, through nymkit's nodes, prove wire compatibility.
//
//   node official.mjs --api URL [--client-id ID] [--retransmit] [--duration SECS]
//
// The client takes its topology from the nym-api at URL (nymkit's `nym-topology serve`) and
// registers at the gateway listed there (nymkit's `nym-gateway`). It is driven by JSON lines on
// stdin and reports JSON lines on stdout; its own chatter goes to stderr.
//   stdin:  {"cmd":"send","hex":"..","to":"ADDR"}   {"cmd":"send_anonymous","hex":"..","to":"ADDR","surbs":N}
//           {"cmd":"reply","hex":"..","tag":"TAG"}  {"cmd":"restart"}  {"cmd":"quit"}
//           ("text" may replace "hex"; "to" defaults to the client itself)
//   stdout: {"event":"ready","address":..}  {"event":"received","len":N,"hex":..,"sender_tag":..}
//           {"event":"ok","cmd":..}  {"event":"error","stage":..,"message":..}  {"event":"exit"}
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { loadOfficialClient } from './lib/env.mjs';

const { values: opt } = parseArgs({
  options: {
    api: { type: 'string' },
    'client-id': { type: 'string', default: `nymkit-interop-${process.pid}` },
    retransmit: { type: 'boolean', default: false },
    duration: { type: 'string', default: '60' },
  },
});
if (!opt.api) {
  process.stderr.write('official.mjs: --api URL is required\n');
  process.exit(2);
}

const emit = (event, data = {}) => process.stdout.write(JSON.stringify({ event, ...data }) + '\n');
// The wasm module logs with console.log: keep stdout for our events.
console.log = (...a) => console.error('[wasm]', ...a);

const nym = await loadOfficialClient();
const onMessage = (msg, senderTag) => {
  const b = Buffer.from(msg);
  // In 1.4.1 the sender tag arrives as an opaque object; print what can be printed.
  let tag = null;
  if (senderTag !== undefined && senderTag !== null) tag = typeof senderTag === 'string' ? senderTag : String(senderTag);
  emit('received', { len: b.length, hex: b.toString('hex'), sender_tag: tag });
};
const options = () => ({
  clientId: opt['client-id'],
  nymApiUrl: opt.api.endsWith('/') ? opt.api : opt.api + '/',
  forceTls: false,
  clientOverride: {
    topology: { disableRefreshing: true },
    statsReporting: { enabled: false },
    // Real messages only, sent at once: scenarios count packets.
    traffic: opt.retransmit ? { disableMainPoissonPacketDistribution: true }
      : { disableMainPoissonPacketDistribution: true, maximumNumberOfRetransmissions: 0 },
    coverTraffic: { disableLoopCoverTrafficStream: true },
  },
});

let client;
async function start() {
  client = await new nym.NymClient(onMessage, options());
  emit('ready', { address: client.selfAddress() });
}
try {
  await start();
} catch (e) {
  emit('error', { stage: 'start', message: String(e?.message ?? e) });
  process.exit(1);
}

const bytesOf = (c) => (c.hex !== undefined ? Uint8Array.from(Buffer.from(c.hex, 'hex')) : new TextEncoder().encode(c.text ?? ''));
async function handle(c) {
  switch (c.cmd) {
    case 'send': await client.send_regular_message(bytesOf(c), c.to ?? client.selfAddress()); break;
    case 'send_anonymous': await client.send_anonymous_message(bytesOf(c), c.to ?? client.selfAddress(), c.surbs ?? 5); break;
    case 'reply': await client.send_reply(bytesOf(c), c.tag); break;
    case 'restart': {
      // Drop the client (its gateway connection goes with it), then start again under the same
      // id: the stored keys and shared key are reused, so it only authenticates.
      const before = client.selfAddress();
      client.free();
      await new Promise((r) => setTimeout(r, 500));
      await start();
      emit('restarted', { same_address: before === client.selfAddress() });
      break;
    }
    case 'quit': emit('exit'); process.exit(0); return;
    default: throw new Error(`unknown cmd '${c.cmd}'`);
  }
  emit('ok', { cmd: c.cmd });
}

// Commands run one after another, in order.
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  let c;
  try { c = JSON.parse(line); } catch { emit('error', { stage: 'stdin', message: 'not JSON' }); return; }
  queue = queue.then(() => handle(c)).catch((e) => emit('error', { stage: c.cmd, message: String(e?.message ?? e) }));
});
setTimeout(() => { emit('exit', { reason: 'duration' }); process.exit(0); }, Number(opt.duration) * 1000);
