// nymkit.d.ts — types of nymkit.mjs (the API of @nymproject/nym-client-wasm 1.4.1).
export interface ClientOverride {
  traffic?: {
    disableMainPoissonPacketDistribution?: boolean;
    averagePacketDelayMs?: number;
    maximumNumberOfRetransmissions?: number;
    useExtendedPacketSize?: boolean;
  };
  coverTraffic?: { disableLoopCoverTrafficStream?: boolean; loopCoverTrafficAverageDelayMs?: number };
  topology?: { disableRefreshing?: boolean };
  statsReporting?: { enabled?: boolean };
}
export interface ClientOpts {
  clientId?: string;
  nymApiUrl?: string;
  forceTls?: boolean;
  preferredGateway?: string;
  clientOverride?: ClientOverride;
  /** Node only: the directory holding clients/<id>/ (default $NYM_HOME_DIR/.nym, else ~/.nym). */
  nymHome?: string;
}
/** senderTag: the anonymous sender's tag in base58 (reply with send_reply), or undefined. */
export type OnMessage = (message: Uint8Array, senderTag?: string) => void;
export class NymClient {
  constructor(onMessage: OnMessage, opts?: ClientOpts);
  selfAddress(): string;
  send_regular_message(message: Uint8Array, recipient: string): Promise<number>;
  send_anonymous_message(message: Uint8Array, recipient: string, replySurbs?: number): Promise<number>;
  send_reply(message: Uint8Array, senderTag: string): Promise<number>;
  /** Fragments sent and not yet acknowledged. */
  unacked(): number;
  /** Milliseconds from the constructor to the gateway taking packets. */
  readonly readyMs: number;
  onWarning?: (why: string) => void;
  /** Close the gateway connection and release the client. */
  free(): void;
}
export interface DecodedPayload { mimeType: string; payload: Uint8Array; headers?: string }
export function encode_payload(mimeType: string, payload: Uint8Array, headers?: string): Uint8Array;
export function encode_payload_with_headers(mimeType: string, payload: Uint8Array, headers?: string | null): Uint8Array;
export function decode_payload(message: Uint8Array): DecodedPayload;
export function parse_utf8_string(u8: Uint8Array): string;
export function utf8_string_to_byte_array(s: string): Uint8Array;
/** Load and compile the module now (the first constructor does it otherwise). */
export function init(): Promise<void>;
/** make bench: milliseconds to build n 4-hop Sphinx packets in the wasm core. */
export function bench_sphinx(n: number): Promise<number>;
export default NymClient;
