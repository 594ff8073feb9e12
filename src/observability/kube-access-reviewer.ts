// The AccessReviewer on the real API server: TokenReview (authentication.k8s.io/v1) and
// SubjectAccessReview (authorization.k8s.io/v1), created by the operator's own identity, which
// therefore needs create on both (deploy/base/rbac.yaml). The per-call options and the error words
// come from the runtime layer, which this layer may not import: the manager passes them in.
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  type ConfigurationOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import type {
  AccessReviewAnswer,
  AccessReviewer,
  ReviewedUser,
  TokenReviewAnswer,
} from './metrics-access.js';

export interface KubeCallHelpers {
  /** Options that cancel the call when `signal` aborts. */
  withSignal(signal: AbortSignal): ConfigurationOptions;
  /** One readable line for a failed call. */
  describeError(error: unknown): string;
}

export class KubeAccessReviewer implements AccessReviewer {
  private readonly authentication: AuthenticationV1Api;
  private readonly authorization: AuthorizationV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly calls: KubeCallHelpers,
  ) {
    this.authentication = kubeConfig.makeApiClient(AuthenticationV1Api);
    this.authorization = kubeConfig.makeApiClient(AuthorizationV1Api);
  }

  async reviewToken(token: string, signal: AbortSignal): Promise<TokenReviewAnswer> {
    const review = await this.call(signal, 'create tokenreviews.authentication.k8s.io', () =>
      this.authentication.createTokenReview(
        { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } },
        this.calls.withSignal(signal),
      ),
    );
    const user = review.status?.user;
    if (!review.status?.authenticated || !user?.username) return { authenticated: false };
    return {
      authenticated: true,
      user: { username: user.username, uid: user.uid, groups: user.groups, extra: user.extra },
    };
  }

  async reviewAccess(
    user: ReviewedUser,
    request: { verb: string; path: string },
    signal: AbortSignal,
  ): Promise<AccessReviewAnswer> {
    const review = await this.call(signal, 'create subjectaccessreviews.authorization.k8s.io', () =>
      this.authorization.createSubjectAccessReview(
        {
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: user.username,
              uid: user.uid,
              groups: user.groups,
              extra: user.extra,
              nonResourceAttributes: { verb: request.verb, path: request.path },
            },
          },
        },
        this.calls.withSignal(signal),
      ),
    );
    const status = review.status;
    return {
      allowed: status?.allowed === true && status.denied !== true,
      reason: [status?.reason, status?.evaluationError].filter(Boolean).join('; '),
    };
  }

  private async call<T>(signal: AbortSignal, what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (signal.aborted) {
        // Duck-typed: the reason may be a DOMException of another realm (not instanceof Error).
        const reason = signal.reason as { name?: unknown; message?: unknown } | undefined;
        const why =
          reason?.name === 'TimeoutError'
            ? 'no answer from the API server in time'
            : typeof reason?.message === 'string'
              ? reason.message
              : 'cancelled';
        throw new Error(why, { cause: error });
      }
      throw new Error(`${what}: ${this.calls.describeError(error)}`, { cause: error });
    }
  }
}
