// Message ids: 26 characters of Crockford base32, time first (like a ULID), so ids sort by
// acceptance and stay well inside SMPP's 65-octet message_id.
import { randomFillSync } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
const random = Buffer.alloc(4096);
let randomAt = random.length;

export function newId(now = Date.now()): string {
  let out = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    out = alphabet[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  if (randomAt + 16 > random.length) {
    randomFillSync(random);
    randomAt = 0;
  }
  for (let i = 0; i < 16; i++) out += alphabet[random[randomAt++]! & 31];
  return out;
}
