import { afterEach, describe, expect, it } from '@jest/globals';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { withPooledConnections } from '../../src/runtime/connections.js';
import { withTimeout } from '../../src/runtime/request-options.js';
import { collectionPath } from '../../src/runtime/resources.js';
import { FakeApiServer } from './fake-apiserver.js';

const REF = { group: 'etcdhealth.io', version: 'v1alpha1', plural: 'etcdhealthchecks', namespace: 'ops' };

let server: FakeApiServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function listSequentially(api: CustomObjectsApi, times: number): Promise<void> {
  for (let i = 0; i < times; i++)
    await api.listNamespacedCustomObject({ ...REF, namespace: REF.namespace }, withTimeout(10_000));
}

describe('withPooledConnections', () => {
  it('sends one API call after another over one kept-alive connection', async () => {
    server = await FakeApiServer.start(collectionPath(REF));
    const api = withPooledConnections(server.kubeConfig()).makeApiClient(CustomObjectsApi);

    await listSequentially(api, 5);

    expect(server.lists()).toHaveLength(5);
    expect(server.connections).toBe(1);
  });

  it('shares the connections between the API clients of one configuration, and leaves the given one as it was', async () => {
    server = await FakeApiServer.start(collectionPath(REF));
    const given = server.kubeConfig();
    const pooled = withPooledConnections(given);

    await listSequentially(pooled.makeApiClient(CustomObjectsApi), 2);
    await listSequentially(pooled.makeApiClient(CustomObjectsApi), 2);
    expect(server.connections).toBe(1);

    // client-node's own behaviour, unchanged for the configuration it was given: a connection per call.
    await listSequentially(given.makeApiClient(CustomObjectsApi), 3);
    expect(server.connections).toBe(4);
  });
});
