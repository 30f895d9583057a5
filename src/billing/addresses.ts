// The addresses a credential may be used from (`policy.allowIps`, `smpp.allowIps`):
// addresses and CIDR ranges, either family; an IPv4-mapped IPv6 peer counts as its IPv4.
import { BlockList, isIP } from 'node:net';
import { addressEntryProblem } from '../config/index.ts';

export class AddressAllowList {
  readonly #list = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const problem = addressEntryProblem(entry);
      if (problem) throw new Error(problem);
      const [network, bits] = entry.split('/') as [string, string | undefined];
      const family = isIP(network) === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.#list.addAddress(network, family);
      else this.#list.addSubnet(network, Number(bits), family);
    }
  }

  allows(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const plain = mapped ? mapped[1]! : address;
    const family = isIP(plain);
    if (family === 0) return false;
    return this.#list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}
