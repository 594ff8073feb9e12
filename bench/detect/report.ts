// What one detection run recorded, and its rendering as Markdown: per fault, when our conditions
// flipped (and whether they named the member and the cause), and when each anchor alert fired.
// Pure: the run (bench/detect.ts) fills the record, the unit test (test/bench/detect.test.ts) renders
// hand-made ones.

/** A condition of our CR as the poller first saw it in a new state; seconds after the fault. */
export interface OurTransition {
  atS: number;
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** An anchor alert the poller first saw firing (ALERTS{alertstate="firing"}); seconds after the fault. */
export interface AlertFiring {
  atS: number;
  alertname: string;
  anchor: string;
  severity: string;
  instance?: string;
}

export interface FaultResult {
  id: string;
  /** What was done, e.g. "every fdatasync of member-2 delayed by 80 ms (strace)". */
  fault: string;
  /** The member the fault is on, or undefined for a cluster-wide fault. */
  member?: string;
  /** The condition families our status may name, `|`-separated: the `Check` of a `Check_Reason`, e.g. DiskLatency. */
  cause: string;
  /** Seconds after the window start at which the fault was in effect. */
  injectedAtS: number;
  /** The run's own words on the injection (how long it took, what it found). */
  note: string;
  transitions: OurTransition[];
  alerts: AlertFiring[];
  /** Anchor alerts already firing on this cluster when the fault was injected. */
  firingBefore: AlertFiring[];
}

export interface HealthyResult {
  transitions: OurTransition[];
  alerts: AlertFiring[];
}

export interface Machine {
  nproc: string;
  cpu: string;
  memory: string;
  kernel: string;
  node: string;
  uptime: string;
}

export interface DetectReport {
  command: string;
  startedAt: string;
  finishedAt: string;
  machineBefore: Machine;
  machineAfter: Machine;
  etcdVersion: string;
  windowSeconds: number;
  pollSeconds: number;
  /** Production defaults the CRs and Prometheus ran with. */
  settings: { interval: string; rateWindow: string; degradedInertia: string; scrapeInterval: string };
  quotaBackendBytes: number;
  faults: FaultResult[];
  healthy: HealthyResult;
  /** Per cluster and member, the WAL fsync p99 (seconds, rate window 5m) over the window: the machine's disk as etcd saw it. */
  walFsyncP99?: Record<string, Record<string, { median: number; max: number }>>;
  notes: string[];
}

/** The union conditions in their unhealthy state: what "our condition flips" means. */
const FLIPPED: Record<string, string> = { Degraded: 'True', Available: 'False', Upgradeable: 'False' };

export interface FaultSummary {
  /** Our first union flip after the fault. */
  flip?: OurTransition & { namesMember: boolean; otherMembers: string[]; namesCause: boolean };
  /** Our first per-check condition naming a problem (a warning keeps *Degraded False but names it). */
  warning?: OurTransition & { namesMember: boolean };
  fastestAlert?: AlertFiring;
  /** Whether ours flipped first, within a third of the fastest anchor alert (or of the window when none fired), naming member and cause. */
  /** Our first Degraded=True or Available=False naming the cause (a warning-tier fault never gets one). */
  degraded?: OurTransition;
  goalMet: boolean;
  goalText: string;
}

/** The harness's members are member-1, member-2, ...: the ones a message names. */
function membersIn(message: string): string[] {
  return [...new Set(message.match(/\bmember-\d+\b/g) ?? [])].sort();
}

/** The right member: the fault's, and no other (a cluster-wide fault has none to name). */
function namesMember(message: string, member: string | undefined): boolean {
  if (member === undefined) return true;
  const named = membersIn(message);
  return named.includes(member) && named.length === 1;
}

/** A union's reason joins `Check_Reason` parts with `::`. */
function namesCause(reason: string, cause: string): boolean {
  const families = cause.split('|');
  // `Check_NoData` says the check could not look: it names no cause.
  return reason
    .split('::')
    .some((part) => !part.endsWith('_NoData') && families.some((family) => part.startsWith(`${family}_`)));
}

export function summarize(fault: FaultResult, windowSeconds: number): FaultSummary {
  // A flip that names the cause counts; another one (a member restarted to slow its disk is briefly
  // down) only when none does.
  const flips = fault.transitions.filter((t) => FLIPPED[t.type] === t.status);
  const flipped = flips.find((t) => namesCause(t.reason, fault.cause)) ?? flips[0];
  const flip = flipped && {
    ...flipped,
    namesMember: namesMember(flipped.message, fault.member),
    otherMembers: membersIn(flipped.message).filter((m) => m !== fault.member),
    namesCause: namesCause(flipped.reason, fault.cause),
  };
  const degraded = flips.find((t) => t.type !== 'Upgradeable' && namesCause(t.reason, fault.cause));
  const warned = fault.transitions.find(
    (t) =>
      !(t.type in FLIPPED) &&
      t.type.endsWith('Degraded') &&
      fault.cause.split('|').some((family) => t.type === `${family}Degraded`) &&
      !['AsExpected', 'NoData'].includes(t.reason),
  );
  const warning = warned && { ...warned, namesMember: namesMember(warned.message, fault.member) };
  const fastestAlert = [...fault.alerts].sort((a, b) => a.atS - b.atS)[0];
  const bound = (fastestAlert?.atS ?? windowSeconds) / 3;
  const problems: string[] = [];
  if (!flip) problems.push('no condition flipped');
  else {
    if (flip.atS > bound)
      problems.push(
        `${formatSeconds(flip.atS)} is above a third of ${fastestAlert ? 'the fastest anchor alert' : 'the window'} (${formatSeconds(bound)})`,
      );
    if (!flip.namesMember)
      problems.push(
        flip.otherMembers.length && membersIn(flip.message).includes(fault.member!)
          ? `names ${flip.otherMembers.join(', ')} besides ${fault.member}`
          : `${fault.member} not named`,
      );
    if (!flip.namesCause) problems.push(`cause ${fault.cause} not named`);
  }
  return {
    flip,
    warning,
    fastestAlert,
    degraded,
    goalMet: problems.length === 0,
    goalText: problems.length === 0 ? 'met' : `**missed**: ${problems.join('; ')}`,
  };
}

export function formatSeconds(seconds: number): string {
  // Negative: a change seen while the fault was being injected (a restart, a fill).
  const s = Math.abs(Math.round(seconds));
  return `${seconds < -0.5 ? '-' : ''}${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

const describeAlert = (a: AlertFiring) =>
  `${a.anchor === 'mixin' ? 'mixin' : 'CEO'} ${a.alertname} (${a.severity}) ${formatSeconds(a.atS)}`;

/** Each alert name and severity once per anchor, at its first firing. */
function firstFirings(alerts: readonly AlertFiring[]): AlertFiring[] {
  const seen = new Map<string, AlertFiring>();
  for (const a of [...alerts].sort((x, y) => x.atS - y.atS)) {
    const key = `${a.anchor}/${a.alertname}/${a.severity}`;
    if (!seen.has(key)) seen.set(key, a);
  }
  return [...seen.values()];
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderDetect(report: DetectReport, jsonPath: string): string {
  const window = formatSeconds(report.windowSeconds);
  const lines: string[] = [
    `# Detection benchmark: ${report.startedAt}`,
    '',
    `\`${report.command}\`; raw record \`${jsonPath}\`. etcd ${report.etcdVersion}; every fault injected at`,
    `once, each on its own 3-member cluster, beside a healthy one; observed for ${window} after the fault,`,
    `polled every ${report.pollSeconds} s. Ours: the compiled operator, one EtcdHealthCheck per cluster at`,
    `interval ${report.settings.interval}, rate window ${report.settings.rateWindow}, degraded inertia`,
    `${report.settings.degradedInertia}. Anchors: bench/detect/anchor-rules.yaml in the same Prometheus`,
    `(scrape and evaluation every ${report.settings.scrapeInterval}). Times are m:ss after the fault was in effect.`,
    '',
    '| fault | ours: first flip (condition, reason) | member, cause named | ours: Degraded/Available naming the cause | ours: first warning | anchor alerts fired (first each) | goal: ours first, <= 1/3 of fastest anchor |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const fault of report.faults) {
    const s = summarize(fault, report.windowSeconds);
    const flip = s.flip
      ? `${formatSeconds(s.flip.atS)} ${s.flip.type}=${s.flip.status} (${s.flip.reason})`
      : `never in ${window}`;
    const named = s.flip
      ? `${fault.member === undefined ? 'n/a (cluster-wide)' : s.flip.namesMember ? `${fault.member} yes` : `${fault.member} **no**${s.flip.otherMembers.length ? ` (names ${s.flip.otherMembers.join(', ')})` : ''}`}, ${s.flip.namesCause ? 'cause yes' : 'cause **no**'}`
      : '-';
    const warning = s.warning
      ? `${formatSeconds(s.warning.atS)} ${s.warning.type} (${s.warning.reason})${fault.member && !s.warning.namesMember ? ', member not named' : ''}`
      : '-';
    const degraded = s.degraded
      ? `${formatSeconds(s.degraded.atS)} ${s.degraded.type}=${s.degraded.status}`
      : 'never';
    const alerts = firstFirings(fault.alerts);
    const alertText = alerts.length ? alerts.map(describeAlert).join('; ') : `never in ${window}`;
    lines.push(
      `| ${cell(fault.fault)} | ${cell(flip)} | ${named} | ${degraded} | ${cell(warning)} | ${cell(alertText)} | ${cell(s.goalText)} |`,
    );
  }
  const healthyFlips = report.healthy.transitions.filter((t) => FLIPPED[t.type] === t.status);
  const healthyAlerts = firstFirings(report.healthy.alerts);
  lines.push(
    '',
    `**Healthy cluster, ${window} window**: ours ${healthyFlips.length === 0 ? 'no flip' : `**${healthyFlips.length} flip(s)**: ${healthyFlips.map((t) => `${formatSeconds(t.atS)} ${t.type}=${t.status} (${t.reason})`).join('; ')}`}; anchors ${healthyAlerts.length === 0 ? 'no alert' : `**${healthyAlerts.map(describeAlert).join('; ')}**`}.`,
    '',
    '## Per fault',
    '',
  );
  for (const fault of report.faults) {
    lines.push(
      `### ${fault.fault}`,
      '',
      `Injected at ${formatSeconds(fault.injectedAtS)} of the run: ${fault.note}`,
    );
    if (fault.firingBefore.length)
      lines.push(
        `Already firing at injection: ${firstFirings(fault.firingBefore).map(describeAlert).join('; ')}.`,
      );
    lines.push('', 'Our condition changes:', '');
    if (fault.transitions.length === 0) lines.push('- none');
    for (const t of fault.transitions)
      lines.push(
        `- ${formatSeconds(t.atS)} ${t.type}=${t.status} ${t.reason}: ${t.message.split('\n')[0]!.slice(0, 200)}`,
      );
    lines.push('');
  }
  if (report.healthy.transitions.length) {
    lines.push('### Healthy cluster', '', 'Our condition changes:', '');
    for (const t of report.healthy.transitions)
      lines.push(
        `- ${formatSeconds(t.atS)} ${t.type}=${t.status} ${t.reason}: ${t.message.split('\n')[0]!.slice(0, 200)}`,
      );
    lines.push('');
  }
  if (report.walFsyncP99) {
    const members = [...new Set(Object.values(report.walFsyncP99).flatMap((m) => Object.keys(m)))].sort();
    const ms = (seconds: number | undefined) =>
      seconds === undefined || !Number.isFinite(seconds) ? '-' : `${Math.round(seconds * 1000)}`;
    lines.push(
      '## WAL fsync p99 over the window (ms, median / max of the 5m-window p99, sampled every 30 s)',
      '',
      `| cluster | ${members.join(' | ')} |`,
      `|---|${members.map(() => '---:').join('|')}|`,
      ...Object.entries(report.walFsyncP99).map(
        ([cluster, byMember]) =>
          `| ${cluster} | ${members.map((m) => (byMember[m] ? `${ms(byMember[m].median)} / ${ms(byMember[m].max)}` : '-')).join(' | ')} |`,
      ),
      '',
    );
  }
  lines.push(
    '## Machine',
    '',
    `${report.machineBefore.nproc} CPUs (${report.machineBefore.cpu}), ${report.machineBefore.memory}, kernel ${report.machineBefore.kernel}, node ${report.machineBefore.node}.`,
    '',
    `- before: \`${report.machineBefore.uptime}\``,
    `- after: \`${report.machineAfter.uptime}\``,
    '',
  );
  if (report.notes.length) lines.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

/** One table over several runs (BENCHMARKS.md): per fault, each run's flip, naming, fastest anchor alert and goal. */
export function renderRuns(runs: readonly { report: DetectReport; path: string }[]): string {
  const header = runs.map((_, i) => `run ${i + 1}`);
  const lines = [
    `| fault | ours: first flip (${header.join(' / ')}) | member, cause named | ours: Degraded/Available naming the cause | fastest anchor alert (${header.join(' / ')}) | goal (${header.join(' / ')}) |`,
    '|---|---|---|---|---|---|',
  ];
  const ids = [...new Set(runs.flatMap((r) => r.report.faults.map((f) => f.id)))];
  for (const id of ids) {
    const per = runs.map(({ report }) => {
      const fault = report.faults.find((f) => f.id === id);
      return (
        fault && { fault, summary: summarize(fault, report.windowSeconds), window: report.windowSeconds }
      );
    });
    const text = per.find((p) => p)!.fault.fault;
    const flips = per.map((p) =>
      !p ? '-' : p.summary.flip ? `${formatSeconds(p.summary.flip.atS)} ${p.summary.flip.type}` : 'never',
    );
    const named = per.map((p) =>
      !p?.summary.flip
        ? '-'
        : `${p.fault.member === undefined ? 'n/a' : p.summary.flip.namesMember ? 'yes' : 'no'}, ${p.summary.flip.namesCause ? 'yes' : 'no'}`,
    );
    const alerts = per.map((p) =>
      !p
        ? '-'
        : p.summary.fastestAlert
          ? describeAlert(p.summary.fastestAlert)
          : `never in ${formatSeconds(p.window)}`,
    );
    const degraded = per.map((p) =>
      !p
        ? '-'
        : p.summary.degraded
          ? `${formatSeconds(p.summary.degraded.atS)} ${p.summary.degraded.type}`
          : 'never',
    );
    const goals = per.map((p) => (!p ? '-' : p.summary.goalMet ? 'met' : 'missed'));
    lines.push(
      `| ${cell(text)} | ${flips.join(' / ')} | ${named.join(' / ')} | ${degraded.join(' / ')} | ${cell(alerts.join(' / '))} | ${goals.join(' / ')} |`,
    );
  }
  const healthy = runs.map(({ report }) => {
    const flips = report.healthy.transitions.filter((t) => FLIPPED[t.type] === t.status).length;
    return `ours ${flips} flip(s), anchors ${firstFirings(report.healthy.alerts).length} alert(s)`;
  });
  lines.push(`| healthy cluster (false alarms) | ${healthy.join(' / ')} | | | | |`);
  return lines.join('\n');
}
