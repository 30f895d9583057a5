// `{{name}}` placeholders in texts (auto-replies, batch templates): filled from a map;
// a name the map lacks becomes the empty string, so a reply never shows raw braces. And
// Kannel's one-letter `%x` escapes in URLs (sms-service get-url, dlr-url).

const placeholder = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

export function fillTemplate(template: string, values: Readonly<Record<string, string | undefined>>): string {
  return template.replace(placeholder, (_, name: string) => values[name] ?? '');
}

/** The names a template uses, in order of first use. */
export function templateNames(template: string): string[] {
  return [...new Set(Array.from(template.matchAll(placeholder), (m) => m[1]!))];
}

/**
 * Fills Kannel's `%x` escapes of a URL, each value URL-encoded and computed only when the
 * URL asks for it; `%%` is a percent sign, and an escape not in `values` stays as written.
 */
export function fillKannelEscapes(url: string, values: Readonly<Record<string, () => string>>): string {
  return url.replace(/%(.)/gs, (written, code: string) => {
    if (code === '%') return '%';
    const value = values[code];
    return value ? encodeURIComponent(value()) : written;
  });
}
