// A message's tags (`match.tags`), as clients and interceptors give them.
import { GatewayError } from './errors.ts';

/** At most this many tags on a message, each 1–64 characters with no comma or space. */
const maxTags = 16;

/** A request's tags, checked (a comma would not survive explain's `tags=a,b`); duplicates dropped. */
export function checkedTags(tags: unknown): string[] {
  if (
    !Array.isArray(tags) ||
    tags.length > maxTags ||
    !tags.every((t) => typeof t === 'string' && /^[^\s,]{1,64}$/u.test(t))
  )
    throw new GatewayError(
      'invalid_field',
      `tags must be a list of at most ${maxTags} tags, each 1-64 characters with no comma or space`,
      'tags',
    );
  return [...new Set(tags as string[])];
}
