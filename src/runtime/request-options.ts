// Per-call options for client-node's generated API classes. client-node 1.4 sets no client-side
// timeout on API calls, so every call the runtime makes passes one of these.
import { Observable } from '@kubernetes/client-node';
import type {
  ConfigurationOptions,
  ObservableMiddleware,
  RequestContext,
  ResponseContext,
} from '@kubernetes/client-node';

/** Cancels the call when `signal` aborts; node-fetch then rejects with an AbortError. */
export function withSignal(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre(context: RequestContext) {
          context.setSignal(signal);
          return new Observable(Promise.resolve(context));
        },
        post(context: ResponseContext) {
          return new Observable(Promise.resolve(context));
        },
      },
    ],
    // Keep any middleware configured on the API client itself.
    middlewareMergeStrategy: 'append',
  };
}

/** Gives up on the call after `ms` milliseconds. Make a fresh one per call: the clock starts now. */
export function withTimeout(ms: number): ConfigurationOptions {
  return withSignal(AbortSignal.timeout(ms));
}

export const DEFAULT_API_TIMEOUT_MS = 15_000;
export const FIELD_MANAGER = 'etcd-health-operator';

/** Per-call options: a timeout, and optionally a Content-Type for patches. */
export function callOptions(
  timeoutMs: number,
  contentType?: string,
): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre: (request: RequestContext) => {
      request.setSignal(AbortSignal.timeout(timeoutMs));
      if (contentType) request.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(request));
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}
