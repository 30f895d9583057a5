// Unknown fields in a JSON body of /v1 are refused (CONTRACT §8): `sendat` for `sendAt` must
// not pass silently. The fields an operation takes are those /openapi.json documents for
// it, so the document and the check cannot drift apart.
import { GatewayError } from '../core/index.ts';
import { openApiDocument } from './openapi.ts';

/** The parts of a JSON Schema the check reads. */
interface BodySchema {
  properties?: Record<string, BodySchema>;
  additionalProperties?: unknown;
  items?: BodySchema;
  oneOf?: BodySchema[];
}

type Operation = { requestBody?: { content?: Record<string, { schema?: BodySchema }> } };

/**
 * By `METHOD /route/:param`: the operation's JSON body schema, or null when it takes no
 * body at all (then any field is unknown). Operations under /v1 that the document does not
 * list, or whose body is not JSON (CSV imports refuse other types themselves), are not checked.
 */
const bodies = new Map<string, BodySchema | null>();
for (const [path, item] of Object.entries(openApiDocument.paths)) {
  if (!path.startsWith('/v1/')) continue;
  const route = path.replace(/\{(\w+)\}/g, ':$1');
  for (const method of ['post', 'put', 'patch', 'delete'] as const) {
    const op = (item as Partial<Record<string, Operation>>)[method];
    if (!op) continue;
    const content = op.requestBody?.content;
    if (content && !content['application/json']) continue;
    bodies.set(`${method.toUpperCase()} ${route}`, content?.['application/json']?.schema ?? null);
  }
}

/** Throws `unknown_field` naming the first field (`sendat`, `recipients[2].name`) the operation does not take. */
export function refuseUnknownFields(method: string, route: string, body: unknown): void {
  if (!isObject(body)) return;
  const schema = bodies.get(`${method} ${route}`);
  if (schema === undefined) return;
  const unknown = schema === null ? Object.keys(body)[0] : unknownField(schema, body, '');
  if (unknown !== undefined) throw unknownFieldError(unknown);
}

/**
 * `refuseUnknownFields` for one element of a body's list read as it streams (`recipients`
 * of a large batch), named by its place: `recipients[7].name`.
 */
export function refuseUnknownItemFields(
  method: string,
  route: string,
  list: string,
  index: number,
  item: unknown,
): void {
  const items = bodies.get(`${method} ${route}`)?.properties?.[list]?.items;
  const unknown = items ? unknownField(items, item, `${list}[${index}]`) : undefined;
  if (unknown !== undefined) throw unknownFieldError(unknown);
}

function unknownFieldError(field: string): GatewayError {
  return new GatewayError('unknown_field', `unknown field '${field}' (see /openapi.json)`, field);
}

function unknownField(schema: BodySchema, value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) {
    if (!schema.items) return undefined;
    for (const [i, item] of value.entries()) {
      const unknown = unknownField(schema.items, item, `${path}[${i}]`);
      if (unknown !== undefined) return unknown;
    }
    return undefined;
  }
  if (!isObject(value)) return undefined;
  // A value that may be written several ways (`quietHours`): its object form is checked.
  const form = schema.oneOf ? schema.oneOf.find((s) => s.properties) : schema;
  // A free map (`vars`, `replies`) takes any name.
  if (!form?.properties || form.additionalProperties) return undefined;
  for (const [name, v] of Object.entries(value)) {
    const field = path ? `${path}.${name}` : name;
    // Own properties only: `constructor` or `toString` is not a field because every object has one.
    const property = Object.hasOwn(form.properties, name) ? form.properties[name] : undefined;
    if (!property) return field;
    const unknown = unknownField(property, v, field);
    if (unknown !== undefined) return unknown;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !Buffer.isBuffer(value) &&
    typeof (value as { pipe?: unknown }).pipe !== 'function'
  );
}
