// An in-memory Lease with apiserver behaviour that matters to leader election: resourceVersion
// checks (409 Conflict), AlreadyExists on create, and times read back as strings.
import { ApiException } from '@kubernetes/client-node';
import type { V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import type { LeaseClient } from '../../src/runtime/leader-election.js';

function apiError(code: number, reason: string): ApiException<string> {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason,
    message: reason,
    code,
  });
  return new ApiException(code, `HTTP-Code: ${code}`, body, {});
}

/** What the apiserver would return: a JSON round trip turns MicroTime into strings. */
function asRead(lease: V1Lease): V1Lease {
  return JSON.parse(JSON.stringify(lease)) as V1Lease;
}

export class FakeLeases {
  stored: V1Lease | undefined;
  /** Every spec the clients tried to write, as sent. */
  readonly written: V1LeaseSpec[] = [];
  /** While true, every call fails with 500. */
  unavailable = false;
  /** Fail the next N updates with 409, as if someone had written in between. */
  conflictsToInject = 0;
  private resourceVersion = 0;

  /** Seeds a lease as another holder left it; times are strings, as read from the API. */
  seed(spec: Record<string, unknown>): void {
    this.stored = asRead({
      metadata: { name: 'leader', namespace: 'ops', resourceVersion: this.nextVersion() },
      spec,
    });
  }

  client(): LeaseClient {
    return {
      get: () => this.call(() => (this.stored ? asRead(this.stored) : undefined)),
      create: (spec) =>
        this.call(() => {
          this.written.push(spec);
          if (this.stored) throw apiError(409, 'AlreadyExists');
          this.stored = {
            metadata: { name: 'leader', namespace: 'ops', resourceVersion: this.nextVersion() },
            spec,
          };
          return asRead(this.stored);
        }),
      update: (current, spec) =>
        this.call(() => {
          this.written.push(spec);
          if (!this.stored) throw apiError(404, 'NotFound');
          if (
            this.conflictsToInject > 0 ||
            current.metadata?.resourceVersion !== this.stored.metadata?.resourceVersion
          ) {
            this.conflictsToInject = Math.max(0, this.conflictsToInject - 1);
            throw apiError(409, 'Conflict');
          }
          this.stored = {
            ...current,
            metadata: { ...current.metadata, resourceVersion: this.nextVersion() },
            spec,
          };
          return asRead(this.stored);
        }),
    };
  }

  holder(): string | undefined {
    return this.stored?.spec?.holderIdentity;
  }

  private async call<T>(operation: () => T): Promise<T> {
    await Promise.resolve(); // answer asynchronously, as over the network
    if (this.unavailable) throw apiError(500, 'InternalError');
    return operation();
  }

  private nextVersion(): string {
    this.resourceVersion++;
    return String(this.resourceVersion);
  }
}
