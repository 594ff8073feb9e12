// Records events.k8s.io/v1 Events about our objects. Repeats of the same (object, type, reason,
// note) within a window are dropped, so a flapping check cannot flood the apiserver (client-go's
// EventCorrelator aggregates over 10 minutes for the same reason). Recording never throws.
import { randomBytes } from 'node:crypto';
import { V1MicroTime } from '@kubernetes/client-node';
import type { EventsV1Api, EventsV1Event, V1ObjectReference } from '@kubernetes/client-node';
import { systemClock } from './clock.js';
import type { Clock } from './clock.js';
import { describeError } from './k8s-errors.js';
import type { Logger } from './logger.js';
import { withTimeout } from './request-options.js';

export const REPORTING_CONTROLLER = 'etcdhealth.io/etcd-health-operator';

// Validation limits of events.k8s.io/v1 (kubernetes pkg/apis/core/validation/events.go), in bytes.
const NOTE_MAX_BYTES = 1024;
const FIELD_MAX_BYTES = 128;

export type EventType = 'Normal' | 'Warning';

export interface EventInput {
  /** The object the event is about; needs apiVersion, kind, name and (if namespaced) namespace. */
  regarding: V1ObjectReference;
  type: EventType;
  /** CamelCase, machine-readable, e.g. `QuorumLost`. */
  reason: string;
  /** What was done or failed, e.g. `Probe`. */
  action: string;
  /** Human-readable detail. */
  note: string;
}

/** Where a reconciler reports Events about the object it works on; recording never blocks it. */
export interface EventSink<T> {
  /** `action`: what the operator did or failed to do (Events v1); "Check" unless given. */
  record(object: T, type: EventType, reason: string, note: string, action?: string): void;
}

export type RecordOutcome = 'sent' | 'duplicate' | 'failed';

export interface EventRecorderOptions {
  events: Pick<EventsV1Api, 'createNamespacedEvent'>;
  /** This replica, usually the pod name. */
  reportingInstance: string;
  reportingController?: string;
  /** Identical events within this window are dropped (default 10 minutes). */
  dedupeWindowMs?: number;
  requestTimeoutMs?: number;
  clock?: Clock;
  log: Logger;
}

export class EventRecorder {
  private readonly events: Pick<EventsV1Api, 'createNamespacedEvent'>;
  private readonly reportingInstance: string;
  private readonly reportingController: string;
  private readonly dedupeWindowMs: number;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** When each distinct event was last sent. */
  private readonly lastSent = new Map<string, number>();

  constructor(options: EventRecorderOptions) {
    this.events = options.events;
    this.reportingInstance = truncateBytes(options.reportingInstance, FIELD_MAX_BYTES);
    this.reportingController = options.reportingController ?? REPORTING_CONTROLLER;
    this.dedupeWindowMs = options.dedupeWindowMs ?? 600_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
  }

  /** Creates the event unless an identical one was sent within the window. Never rejects. */
  async record(input: EventInput): Promise<RecordOutcome> {
    const now = this.clock.now();
    this.forgetOlderThan(now - this.dedupeWindowMs);
    const key = dedupeKey(input);
    if (this.lastSent.has(key)) return 'duplicate';
    // Marked before the call so that concurrent identical records send only once.
    this.lastSent.set(key, now);
    const namespace = input.regarding.namespace || 'default';
    try {
      await this.events.createNamespacedEvent(
        { namespace, body: this.eventFor(input, namespace) },
        withTimeout(this.requestTimeoutMs),
      );
      return 'sent';
    } catch (error) {
      this.lastSent.delete(key);
      this.log.warn(
        { reason: input.reason, object: describeObject(input.regarding), error: describeError(error) },
        'could not record event',
      );
      return 'failed';
    }
  }

  private eventFor(input: EventInput, namespace: string): EventsV1Event {
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      // client-go names events <object>.<unique hex>; generateName would need a name ending in an
      // alphanumeric, and "main." is not one.
      metadata: { name: `${input.regarding.name ?? 'object'}.${randomBytes(8).toString('hex')}`, namespace },
      // MicroTime: a plain Date serialises with 3 fraction digits, which the apiserver rejects.
      eventTime: new V1MicroTime(Date.now()),
      reportingController: this.reportingController,
      reportingInstance: this.reportingInstance,
      regarding: input.regarding,
      type: input.type,
      reason: truncateBytes(input.reason, FIELD_MAX_BYTES),
      action: truncateBytes(input.action, FIELD_MAX_BYTES),
      note: truncateBytes(input.note, NOTE_MAX_BYTES),
    };
  }

  private forgetOlderThan(cutoff: number): void {
    for (const [key, sentAt] of this.lastSent) if (sentAt <= cutoff) this.lastSent.delete(key);
  }
}

function describeObject(ref: V1ObjectReference): string {
  return `${ref.kind ?? 'object'} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name ?? ''}`;
}

function dedupeKey(input: EventInput): string {
  const object = input.regarding.uid ?? describeObject(input.regarding);
  return JSON.stringify([object, input.type, input.reason, input.note]);
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let result = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    result += char;
    bytes += size;
  }
  return result;
}
