// Page cursors of list queries, the same for every store: the (createdAt, id) of the last
// row given, opaque to callers. Lists run newest first, so the next page is what sorts below.

export function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

/** Throws RangeError for anything that is not one of ours. */
export function decodeCursor(cursor: string): { createdAt: number; id: string } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = null;
  }
  if (!Array.isArray(decoded) || typeof decoded[0] !== 'number' || typeof decoded[1] !== 'string') {
    throw new RangeError('invalid cursor');
  }
  return { createdAt: decoded[0], id: decoded[1] };
}
