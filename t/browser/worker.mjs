// t/browser/worker.mjs — the Worker of index.html: nymkit's wasm client, one anonymous
// message out, every message in posted back to the page.
import { NymClient } from './nymkit.mjs';

onmessage = async (ev) => {
  const { api, to, text } = ev.data;
  try {
    const client = await new NymClient((msg, tag) => {
      postMessage({ event: 'received', text: new TextDecoder().decode(msg), sender_tag: tag ?? null });
    }, {
      clientId: 'browser', nymApiUrl: api, forceTls: false,
      clientOverride: { traffic: { disableMainPoissonPacketDistribution: true },
                        coverTraffic: { disableLoopCoverTrafficStream: true } },
    });
    postMessage({ event: 'ready', address: client.selfAddress(), ready_ms: client.readyMs });
    await client.send_anonymous_message(new TextEncoder().encode(text), to, 5);
    postMessage({ event: 'sent' });
  } catch (e) {
    postMessage({ event: 'error', message: String(e?.message ?? e) });
  }
};
