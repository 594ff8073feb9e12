// The optional daily maintenance window of spec.remediation: start HH:MM in UTC plus a duration.
// Pure time arithmetic on the caller's clock.
import { parseDurationMs } from '../api/v1alpha1/units.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface MaintenanceWindow {
  start: string;
  duration: string;
}

export type WindowState = { open: true; always: boolean; closesAt?: Date } | { open: false; opensAt: Date };

/** Whether `now` lies in the window; without a window, always open. */
export function windowState(window: MaintenanceWindow | undefined, now: Date): WindowState {
  if (window === undefined) return { open: true, always: true };
  const durationMs = parseDurationMs(window.duration);
  if (durationMs >= DAY_MS) return { open: true, always: true };
  const [hours, minutes] = window.start.split(':').map(Number) as [number, number];
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const todayStart = midnight + (hours * 60 + minutes) * 60_000;
  // Yesterday's window may still be open just after midnight.
  for (const start of [todayStart - DAY_MS, todayStart]) {
    if (now.getTime() >= start && now.getTime() < start + durationMs) {
      return { open: true, always: false, closesAt: new Date(start + durationMs) };
    }
  }
  const next = now.getTime() < todayStart ? todayStart : todayStart + DAY_MS;
  return { open: false, opensAt: new Date(next) };
}

export function describeWindow(window: MaintenanceWindow): string {
  return `daily from ${window.start} UTC for ${window.duration}`;
}
