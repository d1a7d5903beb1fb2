// bench/bench_wasm.mjs — the official Nym wasm client 1.4.1 and nymkit's wasm client in ONE
// Node process, each sending 1 MiB to the same nym-recv over the same local mixnet (Poisson
// sending and cover off, zero mix delays): time to ready, time to deliver. Run by
// bench/bench_wasm.sh, which starts the mixnet and nym-recv.
//   node bench_wasm.mjs API RECIPIENT RECV_OUT_FILE DIST   -> one JSON line on stdout
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadOfficialClient } from '../t/interop/lib/env.mjs';

const [api, to, recvOut, dist] = process.argv.slice(2);
const MIB = 1 << 20;
console.log = (...a) => console.error('[wasm]', ...a); // the official client logs here
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Lines nym-recv has printed for 1 MiB messages so far.
function delivered() {
  try {
    return readFileSync(recvOut, 'utf8').split('\n').filter((l) => l.includes('"size":1048576')).length;
  } catch { return 0; }
}
async function until(n, secs) {
  const end = Date.now() + secs * 1000;
  while (delivered() < n) {
    if (Date.now() > end) throw new Error('1 MiB not delivered in time');
    await sleep(2);
  }
}

const overrides = {
  topology: { disableRefreshing: true },
  statsReporting: { enabled: false },
  traffic: { disableMainPoissonPacketDistribution: true },
  coverTraffic: { disableLoopCoverTrafficStream: true },
};
const msg = new Uint8Array(MIB);
for (let i = 0; i < MIB; i += 65536) globalThis.crypto.getRandomValues(msg.subarray(i, i + 65536));

async function run(name, Client) {
  const t0 = performance.now();
  const c = await new Client(() => {}, { clientId: `bench-${name}-${process.pid}`, nymApiUrl: api,
    forceTls: false, clientOverride: overrides });
  const ready = performance.now() - t0;
  const before = delivered();
  const t1 = performance.now();
  await c.send_regular_message(msg, to);
  await until(before + 1, 120);
  const deliver = performance.now() - t1;
  try { c.free(); } catch { /* the official free leaves the socket */ }
  return { ready_ms: ready, deliver_ms: deliver };
}

const { nym } = await loadOfficialClient();
const mine = await import(pathToFileURL(path.join(path.resolve(dist), 'nymkit.mjs')).href);
await mine.init(); // both modules compiled before the clocks start (loadOfficialClient did the official's)
const official = await run('official', nym.NymClient);
const nymkit = await run('nymkit', mine.NymClient);
const sphinxN = 500;
await mine.bench_sphinx(50); // warm up
const sphinx_us = (await mine.bench_sphinx(sphinxN)) * 1000 / sphinxN;
const wasmSize = statSync(path.join(dist, 'nymkit.wasm')).size;
process.stdout.write(JSON.stringify({ official, nymkit, sphinx_wasm_us: sphinx_us, wasm_bytes: wasmSize }) + '\n');
process.exit(0);
