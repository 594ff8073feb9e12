// The controller runtime: informers, a keyed work queue, leader election, events and shutdown.
export * from './backoff.js';
export * from './clock.js';
export * from './connections.js';
export * from './events.js';
export * from './informer.js';
export * from './k8s-errors.js';
export * from './leader-election.js';
export * from './logger.js';
export * from './reflector.js';
export * from './request-options.js';
export * from './resources.js';
export * from './shutdown.js';
export * from './workers.js';
export * from './workqueue.js';
