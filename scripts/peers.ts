// The independent peers that interop tests run against. Each is a Debian package; when one
// is missing and we may install (root), it is installed, so `npm test` passes on a fresh
// machine. Tests that need a peer that is still missing fail under CI and skip elsewhere.
import { spawnSync } from 'node:child_process';

export interface Peer {
  name: string;
  debianPackage: string;
  /** A command that exits 0 when the peer is usable. */
  check: string[];
}

export const peers: Peer[] = [
  { name: 'Perl Net::SMPP', debianPackage: 'libnet-smpp-perl', check: ['perl', '-MNet::SMPP', '-e', '1'] },
  { name: 'OpenSSL', debianPackage: 'openssl', check: ['openssl', 'version'] },
  // An HTTPS client of someone else's making for the gateway's http.tls.
  { name: 'curl', debianPackage: 'curl', check: ['curl', '--version'] },
  { name: 'Kannel', debianPackage: 'kannel', check: ['test', '-x', '/usr/sbin/bearerbox'] },
  // The browser the console tests drive (through playwright-core, which downloads none).
  { name: 'Chromium', debianPackage: 'chromium', check: ['test', '-x', '/usr/bin/chromium'] },
  // The PostgreSQL store's tests run a throwaway server from these binaries.
  {
    name: 'PostgreSQL',
    debianPackage: 'postgresql',
    check: ['sh', '-c', 'ls /usr/lib/postgresql/*/bin/pg_ctl'],
  },
  // Wireshark's UCP and CIMD dissectors judge our UCP/EMI and CIMD2 frames on the wire.
  { name: 'tshark', debianPackage: 'tshark', check: ['tshark', '--version'] },
  // socat makes the pseudo-terminal pairs the modem emulator and connector talk over.
  { name: 'socat', debianPackage: 'socat', check: ['socat', '-V'] },
  // ApacheBench: the bench's head-to-head also runs with this off-the-shelf HTTP load.
  { name: 'ApacheBench', debianPackage: 'apache2-utils', check: ['ab', '-V'] },
];

export function peerAvailable(peer: Peer): boolean {
  const [cmd, ...args] = peer.check;
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

export function ensurePeers(): void {
  const missing = peers.filter((p) => !peerAvailable(p));
  if (missing.length === 0) return;
  const names = missing.map((p) => p.debianPackage);
  if (process.getuid?.() !== 0) {
    console.warn(`interop peers missing (${names.join(', ')}); install them to run the interop tests`);
    return;
  }
  console.log(`installing interop peers: ${names.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', ...names], { stdio: 'inherit', env });
  if (install.status !== 0) console.warn(`apt-get install ${names.join(' ')} failed`);
}
