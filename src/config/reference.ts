// docs/configuration.md, written from the config schema (`npm run docs:config`): one table
// per top-level setting, one row per setting below it. A setting without a description
// still gets its row (type, default, bounds), so a new setting is never left out.
import { configSchema } from './schema.ts';

/** The parts of a JSON Schema the reference reads; anything else is ignored. */
interface SchemaNode {
  description?: string;
  type?: string | readonly string[];
  const?: unknown;
  enum?: readonly unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  required?: readonly string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  anyOf?: readonly SchemaNode[];
  oneOf?: readonly SchemaNode[];
  allOf?: readonly SchemaNode[];
  if?: SchemaNode;
  then?: SchemaNode;
  else?: SchemaNode;
}

interface Row {
  path: string;
  node: SchemaNode;
  required: boolean;
}

const header = `# Configuration reference

<!-- Written by \`npm run docs:config\` from src/config/schema.ts: do not edit by hand. -->

The config file is YAML (JSON is YAML too), given as \`smsgw serve --config FILE\` or
\`SMSGW_CONFIG=FILE\`. It is validated at start-up: a bad file stops the process with exit
code 2 and one line per problem naming its path (\`connectors[1].port: expected integer
1..65535\`); \`smsgw config check FILE\` reports the same problems with their line and
column, and more (see [cli.md](cli.md)). Any string may hold \`\${ENV_VAR}\`, replaced by
that environment variable (a variable that is not set is an error).

Paths below are written as in those messages: \`accounts[].smpp.systemId\` is the
\`systemId\` of the \`smpp\` of any entry of \`accounts\`. Patterns (routes, outcomes) are
\`+44*\` (a prefix), \`+15550100\` (exact), \`*\` (anything) or \`re:REGEX\` (a JavaScript
regular expression).
`;

export function configReference(schema: SchemaNode = configSchema as SchemaNode): string {
  schema = inlined(schema, schema, 0) as SchemaNode;
  const out = [header];
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    out.push(`## \`${key}\``, '');
    section(out, key, node, schema.required?.includes(key) ?? false);
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** The table of `node` and below, then one sub-section per variant (connector types). */
function section(out: string[], path: string, node: SchemaNode, required: boolean): void {
  const rows: Row[] = [];
  const variants: Array<{ path: string; node: SchemaNode }> = [];
  collect(rows, variants, path, node, required);
  table(out, rows);
  for (const v of variants) {
    const kind = v.node.properties?.type?.const;
    out.push(`### \`${v.path}\`${kind === undefined ? '' : ` with \`type: ${String(kind)}\``}`, '');
    if (v.node.description) out.push(sentence(v.node.description), '');
    const variantRows: Row[] = [];
    for (const [key, child] of Object.entries(v.node.properties ?? {}))
      collect(variantRows, variants, `${v.path}.${key}`, child, v.node.required?.includes(key) ?? false);
    table(out, variantRows);
  }
}

function collect(
  rows: Row[],
  variants: Array<{ path: string; node: SchemaNode }>,
  path: string,
  node: SchemaNode,
  required: boolean,
): void {
  rows.push({ path, node, required });
  for (const [key, child] of Object.entries(node.properties ?? {}))
    collect(rows, variants, `${path}.${key}`, child, node.required?.includes(key) ?? false);
  if (typeof node.additionalProperties === 'object')
    collect(rows, variants, `${path}.<name>`, node.additionalProperties, false);
  const item = node.items;
  if (item) {
    const shapes = variantsOf(item);
    if (shapes.length > 0) {
      for (const shape of shapes) variants.push({ path: `${path}[]`, node: shape });
    } else {
      for (const [key, child] of Object.entries(item.properties ?? {}))
        collect(rows, variants, `${path}[].${key}`, child, item.required?.includes(key) ?? false);
    }
  }
}

/** The schema with every local `$ref` (`#/$defs/x`) replaced by what it points at. */
function inlined(node: unknown, root: unknown, depth: number): unknown {
  if (Array.isArray(node)) return node.map((n) => inlined(n, root, depth));
  if (node === null || typeof node !== 'object') return node;
  const { $ref, ...rest } = node as { $ref?: unknown };
  let base: object = {};
  if (typeof $ref === 'string' && $ref.startsWith('#/') && depth < 32) {
    const target = $ref
      .slice(2)
      .split('/')
      .reduce<unknown>(
        (at, key) =>
          (at as Record<string, unknown> | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')],
        root,
      );
    base = (inlined(target, root, depth + 1) ?? {}) as object;
  }
  return {
    ...base,
    ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, inlined(v, root, depth)])),
  };
}

/** The object shapes an `if/then/else`, `oneOf` or `anyOf` chooses between (else none). */
function variantsOf(node: SchemaNode): SchemaNode[] {
  const branches = [
    node.then,
    node.else,
    ...(node.oneOf ?? []),
    ...(node.anyOf ?? []),
    ...(node.allOf ?? []),
  ].filter((b): b is SchemaNode => b !== undefined);
  return branches.flatMap((b) => (b.properties ? [b] : variantsOf(b)));
}

function table(out: string[], rows: Row[]): void {
  if (rows.length === 0) return;
  out.push('| Setting | Type | Default | Description |', '| --- | --- | --- | --- |');
  for (const r of rows) {
    const description = [r.required ? '**Required.**' : '', describe(r.node)].filter(Boolean).join(' ');
    out.push(
      `| \`${cell(r.path)}\` | ${cell(typeOf(r.node))} | ${r.node.default === undefined ? '' : `\`${cell(JSON.stringify(r.node.default))}\``} | ${cell(description)} |`,
    );
  }
  out.push('');
}

function typeOf(node: SchemaNode): string {
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' | ');
  const alternatives = node.anyOf ?? node.oneOf;
  if (alternatives && !node.type) return alternatives.map(typeOf).join(' or ');
  const type = Array.isArray(node.type) ? node.type.join(' or ') : (node.type as string | undefined);
  switch (type) {
    case 'integer':
    case 'number':
      return `${type}${bounds(node.minimum, node.maximum, '')}`;
    case 'string':
      return node.minLength === 1 && node.maxLength === undefined
        ? 'non-empty string'
        : `string${bounds(node.minLength, node.maxLength, ' chars')}`;
    case 'array':
      return `list${bounds(node.minItems, node.maxItems, ' items')} of ${node.items ? typeOf(node.items) : 'any'}`;
    case 'object':
      return typeof node.additionalProperties === 'object'
        ? `map of ${typeOf(node.additionalProperties)}`
        : 'object';
    case undefined:
      return node.items ? `list of ${typeOf(node.items)}` : node.properties ? 'object' : 'any';
    default:
      return type;
  }
}

function bounds(min: number | undefined, max: number | undefined, unit: string): string {
  if (min === undefined && max === undefined) return '';
  if (max === undefined) return ` ≥ ${min}${unit}`;
  if (min === undefined || min === 0) return ` ≤ ${max}${unit}`;
  return ` ${min}..${max}${unit}`;
}

/** On a pattern, the schema's description is the form expected (it is also the error message's). */
function describe(node: SchemaNode): string {
  if (!node.description) return '';
  return node.pattern ? `Format: ${sentence(node.description)}` : sentence(node.description);
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?…]$/.test(t) ? t : `${t}.`;
}

/** Text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
