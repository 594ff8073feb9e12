// The one-word result of a check and its exit code. Pure: from the analysis' findings and the
// observation's sources.
import type { Analysis, CheckName, Finding } from '../health/analyze.js';
import { checksUsingPrometheus } from '../health/checks/index.js';
import type { Observation } from '../health/observation.js';

export type Verdict = 'Healthy' | 'Warning' | 'Critical' | 'Unassessable';

export const EXIT_CODES: Record<Verdict, number> = { Healthy: 0, Warning: 1, Critical: 2, Unassessable: 3 };

/** Exit code of input that could not be used (bad flags, unreadable or invalid files). */
export const EXIT_INVALID_INPUT = EXIT_CODES.Unassessable;

export interface CheckVerdict {
  verdict: Verdict;
  exitCode: number;
  /** Why, one line per finding that decided it (or the reason nothing could be assessed). */
  reasons: string[];
  /**
   * Checks not run because Prometheus is not configured, or, when the metrics were sampled from
   * /metrics, because they need a longer history than two samples; they do not count.
   */
  skipped: CheckName[];
}

/** Without Prometheus these checks are Unknown unless etcd answers them itself. */
const METRIC_CHECKS: readonly CheckName[] = checksUsingPrometheus();

/** Checks two samples of /metrics cannot answer: leader changes in 1h and 15m, growth over hours. */
const HISTORY_CHECKS: readonly CheckName[] = ['LeaderChanges', 'Growth'];

/**
 * - Unassessable (3): no member was observed, or none answered: nothing about etcd is known.
 * - Critical (2): some finding is Critical (no quorum or leader, a latency, size or rate above
 *   its critical threshold, an alarm).
 * - Warning (1): some finding is a Warning, or Unknown (data missing from a source that was
 *   configured). Without Prometheus the metric-based checks are skipped: they do not count; with
 *   a /metrics sample instead, only those that need Prometheus' history are.
 * - Healthy (0): otherwise.
 */
export function verdictOf(
  analysis: Pick<Analysis, 'findings' | 'members'>,
  observation: Observation,
): CheckVerdict {
  const notConfigured = observation.metrics.source.state === 'NotConfigured';
  const unanswerable: readonly CheckName[] = notConfigured
    ? METRIC_CHECKS
    : observation.metrics.sampledOverSeconds !== undefined
      ? HISTORY_CHECKS
      : [];
  const isSkipped = (finding: Finding) =>
    finding.severity === 'Unknown' && unanswerable.includes(finding.check);
  const skipped = [...new Set(analysis.findings.filter(isSkipped).map((f) => f.check))];
  if (analysis.members.length === 0 || !analysis.members.some((member) => member.reachable)) {
    const why = observation.etcd.source.message;
    const members = analysis.members
      .filter((member) => member.error)
      .map((member) => `${member.name}: ${member.error}`);
    return {
      verdict: 'Unassessable',
      exitCode: EXIT_CODES.Unassessable,
      reasons: [
        analysis.members.length === 0 ? 'No etcd member was observed' : 'No etcd member answered',
        // The source's message repeats the members' errors; it is the only detail without members.
        ...(members.length > 0 ? members : why ? [why] : []),
      ],
      skipped,
    };
  }
  const counted = analysis.findings.filter((finding) => !isSkipped(finding));
  const critical = counted.filter((finding) => finding.severity === 'Critical');
  if (critical.length > 0) return decided('Critical', critical, skipped);
  const warnings = counted.filter(
    (finding) => finding.severity === 'Warning' || finding.severity === 'Unknown',
  );
  if (warnings.length > 0) return decided('Warning', warnings, skipped);
  return { verdict: 'Healthy', exitCode: EXIT_CODES.Healthy, reasons: [], skipped };
}

function decided(verdict: Verdict, findings: readonly Finding[], skipped: CheckName[]): CheckVerdict {
  const reasons = [
    ...new Set(
      findings.map((finding) => `${finding.severity === 'Unknown' ? 'Unknown: ' : ''}${finding.message}`),
    ),
  ];
  return { verdict, exitCode: EXIT_CODES[verdict], reasons, skipped };
}
