// `{{name}}` placeholders in texts (auto-replies, batch templates): filled from a map;
// a name the map lacks becomes the empty string, so a reply never shows raw braces.

const placeholder = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

export function fillTemplate(template: string, values: Readonly<Record<string, string | undefined>>): string {
  return template.replace(placeholder, (_, name: string) => values[name] ?? '');
}

/** The names a template uses, in order of first use. */
export function templateNames(template: string): string[] {
  return [...new Set(Array.from(template.matchAll(placeholder), (m) => m[1]!))];
}
