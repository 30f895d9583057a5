// Whether an interop peer is installed. Locally a missing peer skips its tests; under CI
// (env CI set), where every peer is installed, a missing one fails them instead, so the
// interop tests cannot quietly stop running.
import { createRequire } from 'node:module';
import type { TestContext } from 'node:test';
import { peerAvailable, peers } from '../../scripts/peers.ts';

/** The Debian peers of scripts/peers.ts by their names, and the npm `smpp` devDependency. */
export type PeerName =
  | 'Perl Net::SMPP'
  | 'OpenSSL'
  | 'curl'
  | 'Kannel'
  | 'Chromium'
  | 'PostgreSQL'
  | 'npm smpp'
  | 'tshark'
  | 'socat';

const known = new Map<PeerName, boolean>();

function isAvailable(name: PeerName): boolean {
  let available = known.get(name);
  if (available === undefined) {
    if (name === 'npm smpp') {
      try {
        createRequire(import.meta.url).resolve('smpp');
        available = true;
      } catch {
        available = false;
      }
    } else {
      const peer = peers.find((p) => p.name === name);
      if (!peer) throw new Error(`${name} is not in scripts/peers.ts`);
      available = peerAvailable(peer);
    }
    known.set(name, available);
  }
  return available;
}

/** True when the peer is there; otherwise skips the test (or, under CI, throws). */
export function requirePeer(t: TestContext, name: PeerName): boolean {
  const missing = missingPeer(name);
  if (missing) t.skip(missing);
  return !missing;
}

/**
 * For suites that need the peer to be registered at all (a server started at load): null
 * when it is there, otherwise why not, to skip with (under CI this throws instead).
 */
export function missingPeer(name: PeerName): string | null {
  if (isAvailable(name)) return null;
  const missing = `interop peer ${name} is not installed`;
  if (process.env.CI) throw new Error(`${missing}; CI installs every peer`);
  return missing;
}
