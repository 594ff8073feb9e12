// Which member leads, from what each member's Maintenance.Status says. Status is answered locally,
// without consensus, so members can disagree (a partitioned member still names an old leader); the
// claim carrying the highest raft term is the most recent one, as raft itself decides.
import type { MemberView } from './cluster.js';
import { listing } from './text.js';

export interface LeaderResolution {
  /** Elected: some member names a leader, or a voting member answered a linearizable read (which needs one). */
  state: 'Elected' | 'None' | 'Unknown';
  /** Decimal member ID, when a member named it. */
  id?: string;
  /** Member name, "member-<id>" for an ID outside the member list, "unknown" or "none". */
  name: string;
  /** Set when members name different leaders. */
  disagreement?: string;
}

interface Claim {
  leaderId: string;
  claimants: MemberView[];
  term: bigint;
}

export function resolveLeader(members: readonly MemberView[]): LeaderResolution {
  const answered = members.filter((member) => member.observation.status !== undefined);
  const claims = claimsOf(answered);
  const best = claims[0];
  if (best === undefined) {
    const readSucceeded = members.some((member) => !member.learner && member.state === 'Healthy');
    if (readSucceeded) return { state: 'Elected', name: 'unknown' };
    return answered.length > 0 ? { state: 'None', name: 'none' } : { state: 'Unknown', name: 'unknown' };
  }
  const resolution: LeaderResolution = {
    state: 'Elected',
    id: best.leaderId,
    name: nameOf(best.leaderId, members),
  };
  if (claims.length > 1) resolution.disagreement = disagreementMessage(claims, members);
  return resolution;
}

/** Distinct leader claims, most credible first: highest raft term, then most claimants, then ID. */
function claimsOf(answered: readonly MemberView[]): Claim[] {
  const byLeader = new Map<string, Claim>();
  for (const member of answered) {
    const status = member.observation.status!;
    if (!/^[0-9]+$/.test(status.leaderId) || status.leaderId === '0') continue;
    const claim = byLeader.get(status.leaderId) ?? { leaderId: status.leaderId, claimants: [], term: 0n };
    claim.claimants.push(member);
    const term = toBigInt(status.raftTerm);
    if (term > claim.term) claim.term = term;
    byLeader.set(status.leaderId, claim);
  }
  return [...byLeader.values()].sort(
    (a, b) =>
      (a.term === b.term ? 0 : a.term > b.term ? -1 : 1) ||
      b.claimants.length - a.claimants.length ||
      (a.leaderId < b.leaderId ? -1 : a.leaderId > b.leaderId ? 1 : 0),
  );
}

/**
 * A member cut off from its peers: it answers Status on its client port but knows no leader (raft
 * forgets the leader once the member, without heartbeats for an election timeout, becomes a
 * (pre-)candidate; seen on etcd 3.6 with its peer link cut), while another member names one. It is
 * not down: clients that reach it get answers to serializable reads and time out on everything
 * else. While the whole cluster has no leader nobody is isolated: that is NoLeader.
 */
export function isIsolated(member: MemberView, leader: LeaderResolution): boolean {
  return member.observation.status?.leaderId === '0' && leader.state === 'Elected' && leader.id !== undefined;
}

function disagreementMessage(claims: readonly Claim[], members: readonly MemberView[]): string {
  const parts = claims.map((claim) => {
    const who = listing(claim.claimants.map((member) => member.name));
    const verb = claim.claimants.length === 1 ? 'names' : 'name';
    return `${who} ${verb} ${nameOf(claim.leaderId, members)} (raft term ${claim.term})`;
  });
  return `Members disagree on the leader: ${parts.join(', ')}; trusting the highest raft term`;
}

function nameOf(id: string, members: readonly MemberView[]): string {
  return members.find((member) => member.id === id)?.name ?? `member-${id}`;
}

/** uint64 values arrive as decimal strings; anything else counts as 0. */
function toBigInt(text: string | undefined): bigint {
  return text !== undefined && /^[0-9]+$/.test(text) ? BigInt(text) : 0n;
}
