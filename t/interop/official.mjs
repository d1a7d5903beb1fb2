#!/usr/bin/env node
// official.mjs — drives the OFFICIAL Nym client (npm @nymproject/nym-client-wasm 1.4.1, its
// WebAssembly build) under Node.js, for nymkit's interop suite. It is the referee: bytes that
// cross between it and nymkit's tools, through nymkit's nodes, prove wire compatibility.
//
//   node official.mjs --api URL [--client-id ID] [--retransmit] [--extended] [--cover]
//                     [--duration SECS]
//   --retransmit     resend unacknowledged packets (the official default; off here otherwise)
//   --extended       extended (32 KiB) packets instead of regular ones (useExtendedPacketSize)
//   --cover          loop cover traffic (Sphinx v258 in 1.4.1) and Poisson sending, as by default
//
// The client takes its topology from the nym-api at URL (nymkit's `nym-topology serve`) and
// registers at the gateway listed there (nymkit's `nym-gateway`). It is driven by JSON lines on
// stdin and reports JSON lines on stdout; its own chatter goes to stderr.
//   stdin:  {"cmd":"send","hex":"..","to":"ADDR"}   {"cmd":"send_anonymous","hex":"..","to":"ADDR","surbs":N}
//           {"cmd":"reply","hex":"..","tag":"TAG"}  {"cmd":"stop"}  {"cmd":"start"}  {"cmd":"restart"}
//           {"cmd":"quit"}
//           ("text" may replace "hex"; "to" defaults to the client itself; "id" is echoed back)
//   stdout: {"event":"ready","address":..}
//           {"event":"received","len":N,"hex":..,"sha256":..,"sender_tag":<base58 or null>}
//           {"event":"ok","cmd":..}  {"event":"stopped","address":..}
//           {"event":"restarted","address":..,"same_address":bool}
//           {"event":"error","stage":..,"message":..}  {"event":"exit"}
//   every event carries "t", seconds since the start.
// Exit: 0 after quit, end of stdin or --duration; 1 when the client cannot start; 2 on usage.
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { loadOfficialClient, openSockets } from './lib/env.mjs';

let opt;
try {
  ({ values: opt } = parseArgs({
    options: {
      api: { type: 'string' },
      'client-id': { type: 'string', default: `nymkit-interop-${process.pid}` },
      retransmit: { type: 'boolean', default: false },
      extended: { type: 'boolean', default: false },
      cover: { type: 'boolean', default: false },
      duration: { type: 'string', default: '60' },
    },
  }));
} catch (e) {
  process.stderr.write(`official.mjs: ${e.message}\n`);
  process.exit(2);
}
if (!opt.api) {
  process.stderr.write('official.mjs: --api URL is required\n');
  process.exit(2);
}

const t0 = Date.now();
const emit = (event, data = {}) =>
  process.stdout.write(JSON.stringify({ event, t: (Date.now() - t0) / 1000, ...data }) + '\n');
// The wasm module logs with console.log: keep stdout for our events.
console.log = (...a) => console.error('[wasm]', ...a);

const { nym, exports: wasm } = await loadOfficialClient();

// base58 (Bitcoin alphabet), as Nym prints keys and sender tags.
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58(bytes) {
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let s = '';
  while (n > 0n) { s = B58[Number(n % 58n)] + s; n /= 58n; }
  for (const b of bytes) { if (b !== 0) break; s = '1' + s; }
  return s;
}

// In 1.4.1 the message callback's second argument is an AnonymousSenderTag: a wasm-bindgen
// handle with no accessor. The handle points at the Rust value inside its RefCell: a 4-byte
// borrow flag, then the tag's 16 bytes. Reading them lets the suite compare the tag the
// official client saw with the one nymkit's sender chose; a wrong guess shows as a mismatch.
function senderTagOf(tag) {
  if (tag === undefined || tag === null) return null;
  if (typeof tag === 'string') return tag;
  const ptr = tag.__wbg_ptr;
  if (typeof ptr !== 'number' || ptr === 0) return null;
  return base58(new Uint8Array(wasm.memory.buffer, ptr + 4, 16));
}

const onMessage = (msg, senderTag) => {
  const b = Buffer.from(msg);
  emit('received', {
    len: b.length,
    hex: b.toString('hex'),
    sha256: createHash('sha256').update(b).digest('hex'),
    sender_tag: senderTagOf(senderTag),
  });
};

const options = (extra = {}) => ({
  clientId: opt['client-id'],
  nymApiUrl: opt.api.endsWith('/') ? opt.api : opt.api + '/',
  forceTls: false,
  ...extra,
  clientOverride: {
    topology: { disableRefreshing: true },
    statsReporting: { enabled: false },
    // Real messages only, sent at once (scenarios count packets), unless --cover.
    traffic: {
      disableMainPoissonPacketDistribution: !opt.cover,
      ...(opt.retransmit ? {} : { maximumNumberOfRetransmissions: 0 }),
      ...(opt.extended ? { useExtendedPacketSize: true } : {}),
    },
    coverTraffic: { disableLoopCoverTrafficStream: !opt.cover },
  },
});

let client;
let authAt = 0; // when the client last authenticated
try {
  client = await new nym.NymClient(onMessage, options());
  authAt = Date.now();
  emit('ready', { address: client.selfAddress() });
} catch (e) {
  emit('error', { stage: 'start', message: String(e?.message ?? e) });
  process.exit(1);
}

const bytesOf = (c) => (c.hex !== undefined ? Uint8Array.from(Buffer.from(c.hex, 'hex'))
  : new TextEncoder().encode(c.text ?? ''));
async function handle(c) {
  switch (c.cmd) {
    case 'send': await client.send_regular_message(bytesOf(c), c.to ?? client.selfAddress()); break;
    case 'send_anonymous':
      await client.send_anonymous_message(bytesOf(c), c.to ?? client.selfAddress(), c.surbs ?? 5);
      break;
    case 'reply': await client.send_reply(bytesOf(c), c.tag); break;
    // stop: drop the client, its gateway connection with it. start: a new client under the
    // same id, which reuses the keys and the shared key stored at registration, so it only
    // authenticates. restart: both.
    case 'stop': await stop(); break;
    case 'start': await startAgain(); break;
    case 'restart': await stop(); await startAgain(); break;
    case 'quit': emit('exit', { reason: 'quit' }); process.exit(0); return;
    default: throw new Error(`unknown cmd '${c.cmd}'`);
  }
  emit('ok', { cmd: c.cmd, ...(c.id !== undefined ? { id: c.id } : {}) });
}

let lastAddress = null;
async function stop() {
  if (!client) throw new Error('not running');
  lastAddress = client.selfAddress();
  client.free();
  client = null;
  // free() leaves the gateway connection open; close it as a closed browser tab would.
  await Promise.all([...openSockets].map((ws) => new Promise((r) => {
    ws.addEventListener('close', r);
    ws.close(1000);
    setTimeout(() => { ws.terminate(); r(); }, 1000);
  })));
  emit('stopped', { address: lastAddress });
}
async function startAgain() {
  if (client) throw new Error('already running');
  // authenticateV2 carries a timestamp in whole seconds that a gateway must see grow
  // strictly: authenticate again in a later second than the last time.
  const next = (Math.floor(authAt / 1000) + 1) * 1000 + 50;
  await new Promise((r) => setTimeout(r, Math.max(200, next - Date.now())));
  // Without preferredGateway 1.4.1 looks for a gateway it has not registered with yet.
  client = await new nym.NymClient(onMessage, options({ preferredGateway: lastAddress.split('@')[1] }));
  authAt = Date.now();
  emit('restarted', { address: client.selfAddress(), same_address: lastAddress === client.selfAddress() });
}

// Commands run one after another, in order.
let queue = Promise.resolve();
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let c;
  try { c = JSON.parse(line); } catch { emit('error', { stage: 'stdin', message: 'not JSON' }); return; }
  queue = queue.then(() => handle(c))
    .catch((e) => emit('error', { stage: c.cmd, message: String(e?.message ?? e), ...(c.id !== undefined ? { id: c.id } : {}) }));
});
// End of stdin: finish what was asked, then leave (pending packets go out first).
rl.on('close', () => queue.then(() => setTimeout(() => { emit('exit', { reason: 'stdin' }); process.exit(0); }, 200)));
setTimeout(() => { emit('exit', { reason: 'duration' }); process.exit(0); }, Number(opt.duration) * 1000);
