// t/interop/cdp-read.mjs PORT EXPR SECS — read a value from the page of a headless Chromium over
// the DevTools protocol: evaluate EXPR in the page until it is a non-empty string, print it.
// Exit 1 when SECS pass first. (Uses the interop suite's pinned `ws` when there is no global.)
const [port, expr, secs] = process.argv.slice(2);
const WS = globalThis.WebSocket ?? (await import('ws')).WebSocket;
const deadline = Date.now() + Number(secs) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let target;
while (!target) {
  try {
    const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    target = list.find((t) => t.type === 'page' && t.webSocketDebuggerUrl);
  } catch { /* not up yet */ }
  if (!target) {
    if (Date.now() > deadline) { console.error('cdp-read: no page'); process.exit(1); }
    await sleep(100);
  }
}
const ws = new WS(target.webSocketDebuggerUrl);
await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
let id = 0;
const pending = new Map();
ws.onmessage = (ev) => {
  const m = JSON.parse(typeof ev.data === 'string' ? ev.data : ev.data.toString());
  if (m.id && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); }
};
const call = (method, params) => new Promise((res) => { pending.set(++id, res); ws.send(JSON.stringify({ id, method, params })); });
for (;;) {
  const r = await call('Runtime.evaluate', { expression: expr, returnByValue: true });
  const v = r.result?.result?.value;
  if (typeof v === 'string' && v !== '') { console.log(v); ws.close(); process.exit(0); }
  if (Date.now() > deadline) { console.error('cdp-read: timed out'); process.exit(1); }
  await sleep(100);
}
