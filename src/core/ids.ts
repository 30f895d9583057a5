// Message ids: 26 characters of Crockford base32, time first (like a ULID), so ids sort by
// acceptance and stay well inside SMPP's 65-octet message_id.
import { createHash, randomFillSync } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
const random = Buffer.alloc(4096);
let randomAt = random.length;

function timePart(at: number): string {
  let out = '';
  let t = at;
  for (let i = 0; i < 10; i++) {
    out = alphabet[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

export function newId(now = Date.now()): string {
  let out = timePart(now);
  if (randomAt + 16 > random.length) {
    randomFillSync(random);
    randomAt = 0;
  }
  for (let i = 0; i < 16; i++) out += alphabet[random[randomAt++]! & 31];
  return out;
}

/**
 * The id of what `name` names (a batch's row: the batch and the row's place), always the
 * same: made twice, it is stored once and refused the second time. Time first, as newId.
 */
export function derivedId(at: number, name: string): string {
  const digest = createHash('sha256').update(name).digest();
  let out = timePart(at);
  for (let i = 0; i < 16; i++) out += alphabet[digest[i]! & 31];
  return out;
}
