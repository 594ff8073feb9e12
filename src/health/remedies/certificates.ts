// Certificates close to expiry: the members' serving certificates, and the client certificate of
// the check. etcd reads its certificate files again at each new TLS handshake (etcd >= 3.2), so
// renewed files need no restart of etcd.
import type { Recommendation } from '../../api/v1alpha1/status.js';
import { findMember, type MemberView } from '../cluster.js';
import { nodeOf, onHost, onHostOf, type CommandStyle } from '../commands.js';
import {
  actionable,
  byReason,
  commandList,
  coverage,
  evidence,
  mostSevere,
  severityOf,
  type RemedyBuilder,
} from './context.js';

/** Prints the subject and end of validity of the certificate on stdin. */
const SHOW_CERTIFICATE = 'openssl x509 -noout -subject -enddate';

export const certificateRemedies: RemedyBuilder = (context, findings) =>
  byReason(actionable(findings, ['Certificates'])).map((group): Recommendation => {
    const reason = group[0]!.reason;
    const base = {
      severity: mostSevere(group.map(severityOf)),
      ...coverage(group),
      reason,
    };
    if (reason.startsWith('ClientCertificate')) {
      return {
        ...base,
        type: 'RenewClientCertificate',
        message: `${evidence(group)} ${clientAdvice(context.view.spec.etcd.tlsSecretRef?.name)}`,
        commands: commandList(clientCommand(context.style, context.view.spec.etcd.tlsSecretRef?.name)),
      };
    }
    const members = group.flatMap((finding) => {
      const member = findMember(context.view, finding.target);
      return member === undefined ? [] : [member];
    });
    return {
      ...base,
      type: 'RenewCertificates',
      message:
        `${evidence(group)} ${servingAdvice(context.style)}` +
        members.map((member) => onHostOf(nodeOf(context.style, member), `member ${member.name}`)).join(''),
      commands: commandList(
        context.style.extractTlsFiles,
        ...members.flatMap((member) => servingCommands(context.style, member)),
      ),
    };
  });

function servingAdvice(style: CommandStyle): string {
  if (style.openshift) {
    return 'The cluster-etcd-operator rotates the etcd certificates (the Secrets etcd-serving-<node> in openshift-etcd) itself: a certificate this close to expiry means its rotation is stuck; read clusteroperator/etcd for the reason.';
  }
  return "Renew the certificate where it was issued; on kubeadm clusters `kubeadm certs renew etcd-server` on the member's node does it (and `etcd-peer` for the peer certificate). etcd loads the renewed files at its next TLS handshake, without a restart.";
}

function servingCommands(style: CommandStyle, member: MemberView): string[] {
  if (style.openshift) {
    return [
      `oc get secret -n ${style.namespace} etcd-serving-${member.name} -o jsonpath='{.data.tls\\.crt}' | base64 -d | ${SHOW_CERTIFICATE}`,
      'oc get clusteroperator etcd',
    ];
  }
  const address = member.clientURL.replace(/^https:\/\//, '').replace(/\/.*$/, '');
  const node = nodeOf(style, member);
  return [
    `openssl s_client -connect ${address}${opensslFlags(style)} </dev/null 2>/dev/null | ${SHOW_CERTIFICATE}`,
    onHost(style, node, 'kubeadm certs check-expiration'),
    onHost(style, node, 'kubeadm certs renew etcd-server'),
  ];
}

/** The check's own TLS files, as openssl s_client takes them (" -CAfile etcd-client/ca.crt ..."). */
function opensslFlags(style: CommandStyle): string {
  const OPENSSL: Record<string, string> = { '--cacert': '-CAfile', '--cert': '-cert', '--key': '-key' };
  return style.tlsFlags
    .map((flag) => flag.split('='))
    .filter(([name]) => OPENSSL[name!] !== undefined)
    .map(([name, ...value]) => ` ${OPENSSL[name!]} ${value.join('=')}`)
    .join('');
}

function clientAdvice(secret: string | undefined): string {
  const where =
    secret === undefined
      ? 'the client certificate the check is given'
      : `tls.crt and tls.key of the Secret ${secret} (in the EtcdHealthCheck's namespace, $NAMESPACE below)`;
  return `Issue a new client certificate from the etcd CA and replace ${where}; the operator reads the Secret again at its next check. Without a valid client certificate etcd refuses every call of the check.`;
}

function clientCommand(style: CommandStyle, secret: string | undefined): string {
  if (secret === undefined) return `${SHOW_CERTIFICATE} -in tls.crt`;
  return `${style.kubectl} get secret -n "$NAMESPACE" ${secret} -o jsonpath='{.data.tls\\.crt}' | base64 -d | ${SHOW_CERTIFICATE}`;
}
