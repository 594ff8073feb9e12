// Mutual TLS: the operator's client certificate and the members' CA, from PEMs. With the right CA
// everything answers (Prometheus scrapes over TLS too); with a CA that did not sign the members'
// certificates the etcd source is a clear Error naming the endpoint.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { observe } from '../../src/sources/observe.js';
import { etcdVersionUnderTest } from '../harness/binaries.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import { observeCluster } from './support.js';

describe(`sources against a TLS etcd ${etcdVersionUnderTest()} cluster`, () => {
  let cluster: EtcdCluster;
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 1, tls: true });
    prometheus = await startPrometheus(cluster);
  });
  afterAll(async () => {
    await prometheus?.stop();
    await cluster?.stop();
  });

  it('answers with the right CA and client certificate', async () => {
    const observation = await eventually(
      async () => {
        const o = await observeCluster(cluster, prometheus.url);
        return o.metrics.source.state === 'OK' && o;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, description: 'Prometheus to scrape the TLS member' },
    );
    expect(observation.etcd.source.state).toBe('OK');
    expect(observation.etcd.members.map((m) => [m.endpoint, m.health?.healthy])).toEqual([
      [cluster.endpoints[0], true],
    ]);
  });

  it('is a clear Error naming the endpoint with a CA that did not sign the members', async () => {
    const observation = await observeCluster(cluster, undefined, 'otherCa');
    const endpoint = cluster.endpoints[0]!;
    expect(observation.etcd.source.state).toBe('Error');
    expect(observation.etcd.source.message).toContain(`${endpoint}: dial: `);
    expect(observation.etcd.source.message).toMatch(/certificate/i);
    expect(observation.etcd.members[0]!.error).toMatch(new RegExp(`^${endpoint}: dial: .*certificate`, 'i'));
  });

  it('is a clear Error naming the endpoint when the member refuses the client certificate', async () => {
    const tls = cluster.tls!;
    const observation = await observe({
      etcd: {
        endpoints: cluster.endpoints,
        // A certificate the members' CA did not sign.
        tls: { caPem: tls.ca.certPem, certPem: tls.otherCa.certPem, keyPem: tls.otherCa.keyPem },
        dialTimeoutMs: 2_000,
        requestTimeoutMs: 5_000,
      },
    });
    expect(observation.etcd.source.state).toBe('Error');
    // The TLS alert differs by Go version: 3.6 (Go 1.26) says "unknown ca", 3.4 (Go 1.19) "bad certificate".
    expect(observation.etcd.source.message).toMatch(
      new RegExp(
        `^no etcd endpoint answered; ${cluster.endpoints[0]}: dial: the member refused the client certificate: (tlsv1 alert unknown ca|sslv3 alert bad certificate) \\(ERR_SSL_`,
      ),
    );
  });

  it('is a clear Error naming the endpoint without TLS material for an https endpoint', async () => {
    const observation = await observeCluster(cluster, undefined, 'none');
    expect(observation.etcd.source.state).toBe('Error');
    expect(observation.etcd.source.message).toMatch(
      new RegExp(`${cluster.endpoints[0]}: dial: .*certificate`),
    );
  });
});
