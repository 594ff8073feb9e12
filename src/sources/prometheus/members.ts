// Which etcd member a series belongs to. With the label `instance` (host:port of the scrape
// target) the host is matched against the hosts of the member's client and peer URLs: metrics are
// often scraped on another port (OpenShift: 9979) than the client port. Any other label (e.g. a
// relabelled `member`) is matched by value against the member name.

export interface MemberIdentity {
  id: string;
  name: string;
  clientURLs: string[];
  peerURLs: string[];
}

export type MemberResolver = (labels: Record<string, string>) => MemberIdentity | undefined;

/** `host:port`, `[v6]:port`, `host` or `v6` to the bare host and optional port. */
export function splitHostPort(address: string): { host: string; port?: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed) return { host: bracketed[1]!.toLowerCase(), port: bracketed[2] };
  const parts = address.split(':');
  if (parts.length === 2 && /^\d+$/.test(parts[1]!)) return { host: parts[0]!.toLowerCase(), port: parts[1] };
  return { host: address.toLowerCase() };
}

function urlHostPort(url: string): { host: string; port: string } | undefined {
  try {
    const parsed = new URL(url);
    const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
    return { host: splitHostPort(parsed.hostname).host, port };
  } catch {
    return undefined;
  }
}

export function memberResolver(members: readonly MemberIdentity[], memberLabel: string): MemberResolver {
  if (memberLabel !== 'instance') {
    const byName = new Map(members.filter((m) => m.name !== '').map((m) => [m.name, m]));
    return (labels) => {
      const value = labels[memberLabel];
      return value === undefined ? undefined : byName.get(value);
    };
  }
  const addresses = members.map((member) => ({
    member,
    urls: [...member.clientURLs, ...member.peerURLs].flatMap((u) => urlHostPort(u) ?? []),
  }));
  return (labels) => {
    const instance = labels.instance;
    if (instance === undefined) return undefined;
    const { host, port } = splitHostPort(instance);
    // host:port first: members may share a host (several members on one machine).
    const exact = addresses.find((a) => a.urls.some((u) => u.host === host && u.port === port));
    if (exact) return exact.member;
    const sameHost = addresses.filter((a) => a.urls.some((u) => u.host === host));
    return sameHost.length === 1 ? sameHost[0]!.member : undefined;
  };
}
