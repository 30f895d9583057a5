// A walk over every plain value of a config, for checks that look for a kind of setting
// wherever it is (every `listen`, every TLS file) rather than at one path.

/** Calls `visit` with each non-object value, its path (`smppServer.tls.cert`), its key and its parent's key. */
export function eachSetting(
  value: unknown,
  visit: (path: string, key: string, value: unknown, parentKey: string) => void,
  path = '',
  key = '',
  parentKey = '',
): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) eachSetting(v, visit, `${path}[${i}]`, String(i), key);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) eachSetting(v, visit, path ? `${path}.${k}` : k, k, key);
  } else {
    visit(path, key, value, parentKey);
  }
}
