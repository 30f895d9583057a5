// Which addresses the gateway may call on a client's behalf (a message's callbackUrl, a
// batch's, Twilio's StatusCallback, Kannel's and Jasmin's dlr-url). A client must not make
// the gateway reach what only the gateway's network can: loopback, private, link-local,
// multicast, unspecified and reserved addresses are refused unless the operator allows them
// (`callbacks.allow`). Every spelling is covered: the WHATWG URL parser turns decimal, hex
// and octal IPv4 forms into dotted quads, net.BlockList judges an IPv4-mapped IPv6 address
// by its IPv4 rules, and NAT64 and 6to4 addresses get the IPv4 rules under their prefix.
// A URL is checked when it is given, and its address again on each connection (a name may
// resolve elsewhere by then: DNS rebinding).
import { type LookupAddress, type LookupOptions, lookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { BoundedMap, GatewayError, stringBytes } from '../core/index.ts';

/** IPv4 ranges that are not the public internet (IANA special-purpose registry). */
const specialV4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (carrier-grade NAT)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services live here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
];

/** IPv6 ranges inside global unicast (2000::/3) that are not the public internet. */
const specialV6: ReadonlyArray<readonly [string, number]> = [
  ['2001::', 23], // IETF protocol assignments (Teredo, benchmarking, ORCHID...)
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
];

/** Prefixes under which an IPv6 address carries an IPv4 one: NAT64 (/96) and 6to4 (/16). */
const v4Carriers: ReadonlyArray<{ bits: number; address: (hi: string, lo: string) => string }> = [
  { bits: 96, address: (hi, lo) => `64:ff9b::${hi}:${lo}` },
  { bits: 16, address: (hi, lo) => `2002:${hi}:${lo}::` },
];

function addV4Range(list: BlockList, network: string, prefix: number): void {
  list.addSubnet(network, prefix, 'ipv4'); // IPv4-mapped IPv6 addresses match this too
  const [a = 0, b = 0, c = 0, d = 0] = network.split('.').map(Number);
  const hi = ((a << 8) | b).toString(16);
  const lo = ((c << 8) | d).toString(16);
  for (const carrier of v4Carriers) list.addSubnet(carrier.address(hi, lo), carrier.bits + prefix, 'ipv6');
}

const refused = new BlockList();
for (const [network, prefix] of specialV4) addV4Range(refused, network, prefix);
for (const [network, prefix] of specialV6) refused.addSubnet(network, prefix, 'ipv6');

/**
 * IPv6 space that may hold a public address: global unicast, and the IPv4 carriers (judged
 * by the IPv4 address inside). Everything else — ::, ::1, unique-local fc00::/7, link-local
 * fe80::/10, multicast ff00::/8, the local NAT64 64:ff9b:1::/48, discard 100::/64,
 * unassigned space — is refused.
 */
const publicV6 = new BlockList();
publicV6.addSubnet('2000::', 3, 'ipv6');
publicV6.addSubnet('::ffff:0:0', 96, 'ipv6');
publicV6.addSubnet('64:ff9b::', 96, 'ipv6');

/** Whether an IP address (either family) is one a client's callback may not reach. */
function isSpecialAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return refused.check(address, 'ipv4');
  if (family === 6) return !publicV6.check(address, 'ipv6') || refused.check(address, 'ipv6');
  return true;
}

/** How long a host's answer is reused when a URL is checked on arrival (not on connecting). */
const resolvedTtlMs = 30_000;

type Lookup = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

export class OutboundPolicy {
  readonly #allowed = new BlockList();
  readonly #hosts = new Set<string>();
  readonly #domains: string[] = [];
  /** Host name → why it is refused (null: allowed), checked on arrival, for a while. */
  readonly #resolved = new BoundedMap<string, { refusal: string | null; until: number }>(
    2 ** 20,
    (host, answer) => 96 + stringBytes(host) + stringBytes(answer.refusal),
  );

  /** `allow`: the operator's `callbacks.allow`, as the config check accepts it. */
  constructor(allow: readonly string[] = []) {
    for (const entry of allow) {
      const slash = entry.indexOf('/');
      if (slash >= 0) {
        const network = entry.slice(0, slash);
        const prefix = Number(entry.slice(slash + 1));
        if (isIP(network) === 4) addV4Range(this.#allowed, network, prefix);
        else this.#allowed.addSubnet(network, prefix, 'ipv6');
      } else if (isIP(entry) === 4) addV4Range(this.#allowed, entry, 32);
      else if (isIP(entry) === 6) this.#allowed.addAddress(entry, 'ipv6');
      else if (entry.startsWith('*.')) this.#domains.push(normalHost(entry.slice(1)));
      else this.#hosts.add(normalHost(entry));
    }
  }

  /** Whether the gateway may connect to this address for a client. */
  allowsAddress(address: string): boolean {
    const family = isIP(address);
    if (family !== 0 && this.#allowed.check(address, family === 4 ? 'ipv4' : 'ipv6')) return true;
    return !isSpecialAddress(address);
  }

  /** Whether the operator allowed this host name as such (then its addresses are not judged). */
  allowsHost(hostname: string): boolean {
    const host = normalHost(hostname);
    return this.#hosts.has(host) || this.#domains.some((d) => host.endsWith(d));
  }

  /**
   * Why a client's URL is refused, or null when it may be called: not http(s), or a host
   * that is, or resolves to, an address it may not reach. A name that does not resolve now
   * is let through: the check on connecting judges where it leads then.
   */
  async refusal(url: string): Promise<string | null> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'is not a valid URL';
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be an http(s) URL';
    // `localhost.` is `localhost`: the trailing dot must not dodge the lookup.
    const host = normalHost(parsed.hostname.replace(/^\[|\]$/g, ''));
    if (this.allowsHost(host)) return null;
    if (isIP(host) !== 0) return this.allowsAddress(host) ? null : addressRefusal(host);
    const now = Date.now();
    const known = this.#resolved.get(host);
    if (known && known.until > now) return known.refusal;
    const refusal = await new Promise<string | null>((resolve) => {
      lookup(host, { all: true }, (err, addresses) => {
        if (err) return resolve(null);
        const bad = addresses.find((a) => !this.allowsAddress(a.address));
        resolve(bad ? `${addressRefusal(bad.address)} (${host} resolves to it)` : null);
      });
    });
    this.#resolved.set(host, { refusal, until: now + resolvedTtlMs });
    return refusal;
  }

  /** Throws `400 callback_not_allowed` naming `field` when refusal() finds a reason. */
  async check(url: string, field: string): Promise<void> {
    const refusal = await this.refusal(url);
    if (refusal !== null) throw new GatewayError('callback_not_allowed', `${field} ${refusal}`, field);
  }

  /**
   * A `lookup` for the socket: resolves the name and hands on only the addresses the policy
   * allows (failing when none is left), so the address connected to is one that was judged.
   */
  readonly lookup: Lookup = (hostname, options, callback) => {
    const trustedName = this.allowsHost(hostname);
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const allowed = trustedName ? addresses : addresses.filter((a) => this.allowsAddress(a.address));
      const first = allowed[0];
      if (!first)
        return callback(
          notAllowed(`${hostname} resolves to ${addresses.map((a) => a.address).join(', ')}`),
          [],
        );
      if (options.all) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}

function normalHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

function addressRefusal(address: string): string {
  return `points at ${address}, a loopback, private, link-local, multicast or reserved address`;
}

/** The error a refused connection fails with (its delivery is retried, then abandoned). */
export function notAllowed(detail: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(
    `${detail}: callbacks may not reach loopback, private, link-local, multicast or reserved addresses`,
  );
  err.code = 'ECALLBACKNOTALLOWED';
  return err;
}
