// client-node 1.4 makes a new http(s).Agent for every API call (KubeConfig.applySecurityAuthentication),
// so every call opens a new TCP connection and does a full TLS handshake with a fresh secure
// context (CA and client key read from disk again). Under a burst of status writes that is most of
// what a call costs, on both ends. This hands every call one keep-alive agent per set of connection
// options instead; the options are compared by content, so a rotated client certificate or CA gets
// a new agent, and the old one's idle connections close after the idle timeout.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

/**
 * An idle pooled connection is closed after this long: well below the kube-apiserver's own idle
 * timeout (90 s, Go's http.Server IdleTimeout in k8s.io/apiserver secure serving), so that a
 * request is not sent on a connection the server is closing.
 */
const IDLE_CONNECTION_TIMEOUT_MS = 30_000;
/** Agents kept for earlier credentials (a rotation in progress); older ones are dropped. */
const MAX_AGENTS = 4;
/** The agent options that decide who we connect to and as whom (Node's TLS connection options). */
const CONNECTION_FIELDS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'servername',
  'ciphers',
  'secureProtocol',
] as const;

/**
 * A view of `kubeConfig` whose API clients (`makeApiClient`) share keep-alive connections. Watches
 * (client-node's Watch) are long-lived and keep their own connection.
 */
export function withPooledConnections(kubeConfig: KubeConfig): KubeConfig {
  const agents = new Map<string, http.Agent>();
  const pooled = (made: http.Agent): http.Agent => {
    const tls = made instanceof https.Agent;
    // Node keeps the options an agent was made with; client-node set the TLS ones from the kubeconfig.
    const options = (made as unknown as { options?: https.AgentOptions }).options ?? {};
    const key = fingerprint(tls, options);
    let agent = agents.get(key);
    if (agent) {
      // Most recently used last, so that the oldest is dropped first.
      agents.delete(key);
    } else {
      const agentOptions = { ...options, keepAlive: true, timeout: IDLE_CONNECTION_TIMEOUT_MS };
      agent = tls ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
      // Dropped agents are not destroyed: requests in flight on them finish, idle sockets time out.
      if (agents.size >= MAX_AGENTS) agents.delete(agents.keys().next().value!);
    }
    agents.set(key, agent);
    return agent;
  };
  const config = Object.create(kubeConfig) as KubeConfig;
  config.applySecurityAuthentication = async (context: RequestContext) => {
    await kubeConfig.applySecurityAuthentication(context);
    const made = context.getAgent();
    // Exactly Node's agents: a proxy agent (a subclass) is left as client-node made it.
    if (made && (made.constructor === https.Agent || made.constructor === http.Agent))
      context.setAgent(pooled(made));
  };
  return config;
}

function fingerprint(tls: boolean, options: https.AgentOptions): string {
  const hash = createHash('sha256').update(tls ? 'https' : 'http');
  for (const field of CONNECTION_FIELDS) {
    hash.update(`\0${field}=`);
    const value: unknown = options[field];
    if (value === undefined || value === null) continue;
    for (const part of Array.isArray(value) ? value : [value]) {
      if (Buffer.isBuffer(part) || typeof part === 'string') hash.update(part);
      else hash.update(JSON.stringify(part) ?? String(part));
    }
  }
  return hash.digest('hex');
}
