// Per-call options for client-node's generated API classes. client-node 1.4 sets no client-side
// timeout on API calls, so every call the runtime makes passes one of these.
import { Observable } from '@kubernetes/client-node';
import type { ConfigurationOptions, RequestContext, ResponseContext } from '@kubernetes/client-node';

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
