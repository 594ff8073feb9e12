// etcd_server_proposals_failed_total: proposals fail during leader elections and quorum loss (etcd metrics docs).
import type { ClusterView } from '../cluster.js';
import type { Finding } from '../findings.js';
import { runRateCheck } from './rates.js';

export function checkProposalsFailed(view: ClusterView): Finding[] {
  return runRateCheck(view, {
    check: 'ProposalsFailed',
    label: 'failed proposals',
    metric: 'proposalsFailedRate',
    reason: 'ProposalsFailing',
    meaning: 'proposals fail during leader elections or when quorum is lost',
    critical: (v) => v.limits.proposalsFailedCriticalRate,
  });
}
