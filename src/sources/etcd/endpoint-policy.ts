// Which addresses the operator may dial for a check's etcd: any by default; with the admin flag
// --etcd-endpoint-cidr only addresses inside the listed networks. It applies to every dial:
// static endpoints, discovered pod IPs, and the client URLs a member list advertises.
//
// With networks set, an endpoint must be an IP literal in the form the URL parser keeps
// ("127.1", "0x7f.0.0.1" or "[0:0::1]" are refused): a hostname would be resolved again by the
// gRPC client after the check, so a DNS answer that changes in between could point it elsewhere.
import { BlockList, isIP } from 'node:net';

const ENDPOINT_CIDR_FLAG = '--etcd-endpoint-cidr';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** "10.0.0.0/8" or "fd00::/8"; undefined when it is not a network in CIDR notation. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const address = match[1]!;
  const prefix = Number(match[2]);
  const family = isIP(address);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

export class EndpointPolicy {
  private readonly allowed?: BlockList;

  /** `cidrs` are validated by the caller (parseCidr); an empty list allows every address. */
  constructor(cidrs: readonly string[] = []) {
    if (cidrs.length === 0) return;
    this.allowed = new BlockList();
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (!cidr)
        throw new Error(`${ENDPOINT_CIDR_FLAG}: ${JSON.stringify(text)} is not a network such as 10.0.0.0/8`);
      this.allowed.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
  }

  /** Undefined when the operator may dial `endpoint`; otherwise why not, naming the flag. */
  refusal(endpoint: string): string | undefined {
    if (!this.allowed) return undefined;
    let host: string;
    try {
      host = new URL(endpoint).hostname;
    } catch {
      return `${endpoint} is not a URL`;
    }
    const address = host.replace(/^\[(.*)\]$/, '$1');
    const family = isIP(address);
    const written = /^[a-z][a-z0-9+.-]*:\/\/(\[[^\]]*\]|[^:/?#]*)/i.exec(endpoint)?.[1]?.toLowerCase();
    if (family === 0 || written !== host) {
      return `${endpoint} is not an IP address in canonical form; the operator's admin restricts etcd endpoints to networks (${ENDPOINT_CIDR_FLAG}), which needs IP addresses`;
    }
    if (!this.allowed.check(address, family === 4 ? 'ipv4' : 'ipv6')) {
      return `${endpoint} is outside the networks the operator's admin allows for etcd endpoints (${ENDPOINT_CIDR_FLAG})`;
    }
    return undefined;
  }
}
