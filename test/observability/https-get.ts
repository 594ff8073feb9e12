// One HTTPS GET for the /metrics tests: trusts only the given CA, sends a bearer token when given,
// reuses no connection, and returns the served certificate beside the answer.
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface HttpsAnswer {
  status: number;
  body: string;
  /** The server's certificate, PEM (X509Certificate.toString()). */
  certificate: string;
}

export function httpsGet(url: string, caPem: string, token?: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: caPem,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        agent: false,
        timeout: 30_000,
      },
      (response) => {
        const peer = (response.socket as TLSSocket).getPeerCertificate();
        const certificate = new X509Certificate(peer.raw).toString();
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, certificate }));
        response.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
