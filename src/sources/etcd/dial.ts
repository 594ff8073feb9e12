// Dials a member before any gRPC call: TCP (or TLS with the same certificates), the HTTP/2
// preface, and the server's SETTINGS frame, within the dial timeout; then hangs up.
//
// Why not let gRPC dial: etcd3 1.1.2 ignores its dialTimeout option, and grpc-js 1.14 does not
// abort a connection attempt when its channel is closed (subchannel unref never shuts the
// connector down): a member that accepts TCP but never answers (a hung process) would keep one
// socket open per check, forever. Here the socket is ours and is always destroyed.
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ServingCertificate } from '../../health/observation.js';
import { errorText, oneLine } from '../text.js';
import { CANCELLED } from '../timeout.js';
import { describeCertificate } from './certificates.js';
import type { EtcdTls } from './client.js';

/**
 * With TLS, the certificate the server presented is part of the answer, also when the handshake
 * refused it as expired: the certificates check reads it from here, without a second connection.
 */
export type DialResult =
  | { ok: true; tookMs: number; certificate?: ServingCertificate }
  | { ok: false; error: string; tookMs: number; certificate?: ServingCertificate };

export function dialHttp2(
  endpoint: string,
  tls: EtcdTls | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DialResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let socket: Socket | undefined;
    let session: ClientHttp2Session | undefined;
    let certificate: ServingCertificate | undefined;
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      session?.destroy();
      socket?.destroy();
      const tookMs = Date.now() - started;
      const seen = certificate === undefined ? {} : { certificate };
      resolve(
        error === undefined
          ? { ok: true, tookMs, ...seen }
          : { ok: false, error: `dial: ${error}`, tookMs, ...seen },
      );
    };
    const timer = setTimeout(() => finish(`no HTTP/2 answer within ${timeoutMs}ms`), timeoutMs);
    const onAbort = (): void => finish(CANCELLED);
    if (signal?.aborted) return finish(CANCELLED);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const url = new URL(endpoint);
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const secure = url.protocol === 'https:';
      const port = Number(url.port || (secure ? 443 : 80));
      // The socket is ours, not http2's: TLS alerts (an unknown client CA) surface on it only.
      const connected = secure
        ? tlsConnect({
            host,
            port,
            ALPNProtocols: ['h2'],
            // SNI takes names only; an IP is still verified against the certificate's IP SANs.
            servername: isIP(host) ? undefined : host,
            ...(tls ? { ca: tls.caPem, cert: tls.certPem, key: tls.keyPem } : {}),
          })
        : tcpConnect({ host, port });
      socket = connected;
      if ('getPeerX509Certificate' in connected) {
        connected.once('secureConnect', () => {
          const peer = connected.getPeerX509Certificate();
          if (peer) certificate = describeCertificate(peer);
        });
      }
      connected.once('error', (error) => {
        // A refused handshake destroys the socket with the certificate: only its verdict is left.
        if ((error as NodeJS.ErrnoException).code === 'CERT_HAS_EXPIRED') certificate = { expired: true };
        finish(describeDialError(error));
      });
      connected.once('close', () => finish('connection closed before the HTTP/2 handshake'));
      session = http2Connect(endpoint, { createConnection: () => connected });
      session.once('remoteSettings', () => finish());
      session.once('error', (error) => finish(describeDialError(error)));
    } catch (error) {
      finish(describeDialError(error));
    }
  });
}

/**
 * The message, with Node's error code when it adds something (TLS: CERT_HAS_EXPIRED, ...).
 * OpenSSL's "<hex>:error:<hex>:SSL routines:<function>:<reason>:<file>:<line>:" keeps its reason.
 * A TLS failure a user fixes in a Secret or ConfigMap first says whose certificate failed.
 */
export function describeDialError(error: unknown): string {
  const lookup = describeLookupError(error);
  if (lookup !== undefined) return lookup;
  const raw = errorText(error);
  const text = oneLine(/:SSL routines:[^:]*:([^:\n]+):/.exec(raw)?.[1] ?? raw);
  const code = (error as { code?: unknown } | null)?.code;
  const described = typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
  const whose = typeof code === 'string' ? certificateAtFault(code) : undefined;
  return whose === undefined ? described : `${whose}: ${described}`;
}

// Node's codes for a server certificate that does not chain to the CA the check trusts.
const UNTRUSTED_SERVER_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * Which certificate a TLS error code is about: an alert the member sent about the certificate is
 * its verdict on the client certificate; a verification error is ours on the member's.
 */
function certificateAtFault(code: string): string | undefined {
  if (/^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_\w+)$/.test(code))
    return 'the member refused the client certificate';
  if (code === 'CERT_HAS_EXPIRED') return "the member's certificate";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return "the member's certificate does not name this endpoint";
  if (UNTRUSTED_SERVER_CERTIFICATE.has(code))
    return "the member's certificate is not signed by the CA the check trusts";
  return undefined;
}

/** getaddrinfo's codes in words: a name DNS does not know, or a DNS that did not answer. */
function describeLookupError(error: unknown): string | undefined {
  const { code, hostname, syscall } = (error ?? {}) as {
    code?: unknown;
    hostname?: unknown;
    syscall?: unknown;
  };
  if (syscall !== 'getaddrinfo' || typeof hostname !== 'string') return undefined;
  const name = oneLine(hostname);
  if (code === 'ENOTFOUND') return `the name ${name} does not resolve (getaddrinfo ENOTFOUND)`;
  if (code === 'EAI_AGAIN')
    return `the name ${name} could not be resolved: DNS did not answer (getaddrinfo EAI_AGAIN)`;
  return undefined;
}
