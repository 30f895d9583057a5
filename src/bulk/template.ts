// Message templates: `Hi {{name}}, your code is {{ code }}`. Compiled once per batch into
// literal parts and variable names, so rendering a million recipients is a join.
import { GatewayError } from '../core/index.ts';

const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

export interface Template {
  /** The variable names the text uses, in order of first use. */
  readonly variables: readonly string[];
  /** The text with each variable replaced; a variable the recipient lacks renders empty. */
  render(vars: Readonly<Record<string, string | undefined>>): string;
}

export function compileTemplate(text: string): Template {
  const literals: string[] = [];
  const names: string[] = [];
  let at = 0;
  for (const match of text.matchAll(placeholder)) {
    literals.push(text.slice(at, match.index));
    names.push(match[1]!);
    at = match.index + match[0].length;
  }
  literals.push(text.slice(at));
  if (/\{\{|\}\}/.test(literals.join('')))
    throw new GatewayError(
      'invalid_template',
      'text has a {{ or }} that is not a variable like {{name}} (letters, digits, _ . -)',
      'text',
    );
  return {
    variables: [...new Set(names)],
    render(vars) {
      if (names.length === 0) return literals[0]!;
      let out = literals[0]!;
      for (let i = 0; i < names.length; i++) out += (vars[names[i]!] ?? '') + literals[i + 1]!;
      return out;
    },
  };
}
