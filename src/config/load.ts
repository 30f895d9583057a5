// Reads, substitutes and validates the config file. Every problem is reported as one line
// naming its path (`connectors[1].port: expected integer 1..65535`), all at once.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { configSchema, moRoute } from './schema.ts';
import type { GatewayConfig, MoRouteConfig } from './types.ts';

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validate = ajv.compile(configSchema);
const validateMo = ajv.compile({ type: 'array', items: moRoute, maxItems: 10_000 });

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    ]);
  }
  return parseConfig(text, env);
}

/** Parses YAML (JSON is YAML too), substitutes `${ENV}` and validates. */
export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => `line ${e.linePos?.[0].line ?? 0}: ${e.message.split('\n')[0]}`),
    );
  }
  const raw = doc.toJS() ?? {};
  const problems: string[] = [];
  const substituted = substituteEnv(raw, '', env, problems);
  try {
    const config = validateConfig(substituted);
    if (problems.length > 0) throw new ConfigError(problems);
    return config;
  } catch (err) {
    if (err instanceof ConfigError && problems.length > 0)
      throw new ConfigError(dedupe([...problems, ...err.problems]));
    throw err;
  }
}

/** Validates a config object (defaults are filled in) and checks what a schema cannot. */
export function validateConfig(value: unknown): GatewayConfig {
  if (!validate(value)) throw new ConfigError(dedupe((validate.errors ?? []).flatMap(describeError)));
  const config = value as GatewayConfig;
  const problems = crossCheck(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * Validates MO rules given at run time (the admin API) as the config file's `routes.mo`
 * would be, problems named by the same paths; `accountIds`: the accounts they may name.
 */
export function validateMoRoutes(value: unknown, accountIds: ReadonlySet<string>): MoRouteConfig[] {
  if (!validateMo(value)) {
    throw new ConfigError(
      dedupe(
        (validateMo.errors ?? [])
          .flatMap(describeError)
          .map((line) => `routes.mo${line.startsWith('(root)') ? line.slice(6) : line}`),
      ),
    );
  }
  const routes = value as MoRouteConfig[];
  const problems = moRouteProblems(routes, accountIds);
  if (problems.length > 0) throw new ConfigError(problems);
  return routes;
}

function substituteEnv(value: unknown, path: string, env: NodeJS.ProcessEnv, problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) {
        problems.push(`${path || '(root)'}: environment variable ${name} is not set`);
        return '';
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, `${path}[${i}]`, env, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, path ? `${path}.${k}` : k, env, problems)]),
    );
  }
  return value;
}

/** `/connectors/1/port` → `connectors[1].port` */
function displayPath(instancePath: string): string {
  const out = instancePath
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
  return out || '(root)';
}

function describeError(e: ErrorObject): string[] {
  const path = displayPath(e.instancePath);
  const schema = e.parentSchema as
    | { type?: string; minimum?: number; maximum?: number; description?: string }
    | undefined;
  const range = (s: typeof schema) =>
    s?.type === 'integer' || s?.type === 'number'
      ? `expected ${s.type}${s.minimum !== undefined && s.maximum !== undefined ? ` ${s.minimum}..${s.maximum}` : ''}`
      : undefined;
  switch (e.keyword) {
    case 'type':
    case 'minimum':
    case 'maximum':
      return [`${path}: ${range(schema) ?? `expected ${(e.params as { type: string }).type}`}`];
    case 'required':
      return [
        `${path === '(root)' ? '' : `${path}.`}${(e.params as { missingProperty: string }).missingProperty}: required`,
      ];
    case 'additionalProperties':
      return [
        `${path === '(root)' ? '' : `${path}.`}${(e.params as { additionalProperty: string }).additionalProperty}: unknown field`,
      ];
    case 'enum':
      return [
        `${path}: expected ${schema?.description ?? `one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`}`,
      ];
    case 'const':
      return [`${path}: expected ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`];
    case 'pattern':
      return [
        `${path}: expected ${schema?.description ?? `to match ${(e.params as { pattern: string }).pattern}`}`,
      ];
    case 'minLength':
      return [
        `${path}: ${(e.params as { limit: number }).limit === 1 ? 'must not be empty' : `expected at least ${(e.params as { limit: number }).limit} characters`}`,
      ];
    case 'maxLength':
      return [`${path}: expected at most ${(e.params as { limit: number }).limit} characters`];
    case 'minItems':
      return [`${path}: expected at least ${(e.params as { limit: number }).limit} item(s)`];
    case 'maxItems':
      return [`${path}: expected at most ${(e.params as { limit: number }).limit} items`];
    case 'if':
      return []; // the branch's own errors say what is wrong
    default:
      return [`${path}: ${e.message ?? 'invalid'}`];
  }
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}

/** What a schema cannot say: ids unique, routes naming connectors and accounts that exist. */
function crossCheck(config: GatewayConfig): string[] {
  const problems: string[] = [];
  const connectorIds = new Set<string>();
  config.connectors.forEach((c, i) => {
    if (connectorIds.has(c.id)) problems.push(`connectors[${i}].id: duplicate id '${c.id}'`);
    connectorIds.add(c.id);
    // broadcast_sm exists from SMPP 5.0 on.
    if (c.type === 'smpp' && c.broadcast && c.interfaceVersion !== '5.0')
      problems.push(`connectors[${i}].broadcast: needs interfaceVersion 5.0`);
  });
  const accountIds = new Set<string>();
  const apiKeys = new Set<string>(config.admin.apiKeys);
  const systemIds = new Set<string>();
  config.accounts.forEach((a, i) => {
    if (accountIds.has(a.id)) problems.push(`accounts[${i}].id: duplicate id '${a.id}'`);
    accountIds.add(a.id);
    a.apiKeys.forEach((k, j) => {
      if (apiKeys.has(k)) problems.push(`accounts[${i}].apiKeys[${j}]: key already used elsewhere`);
      apiKeys.add(k);
    });
    if (a.smpp) {
      if (systemIds.has(a.smpp.systemId))
        problems.push(`accounts[${i}].smpp.systemId: duplicate '${a.smpp.systemId}'`);
      systemIds.add(a.smpp.systemId);
    }
  });
  config.routes.mt.forEach((r, i) => {
    r.connectors.forEach((c, j) => {
      if (!connectorIds.has(c)) problems.push(`routes.mt[${i}].connectors[${j}]: no connector '${c}'`);
    });
    if (r.strategy === 'weighted') {
      for (const c of r.connectors) {
        if (r.weights?.[c] === undefined)
          problems.push(`routes.mt[${i}].weights.${c}: required for strategy weighted`);
      }
    }
    for (const [k, pattern] of Object.entries(r.match ?? {})) {
      (pattern as string[]).forEach((p, j) => {
        const problem = patternProblem(p);
        if (problem) problems.push(`routes.mt[${i}].match.${k}[${j}]: ${problem}`);
      });
    }
  });
  problems.push(...moRouteProblems(config.routes.mo, accountIds));
  return problems;
}

function moRouteProblems(routes: readonly MoRouteConfig[], accountIds: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  routes.forEach((r, i) => {
    // A rule must take the message somewhere.
    if (r.account === undefined && r.url === undefined && r.reply === undefined)
      problems.push(`routes.mo[${i}]: needs an account, a url or a reply`);
    if (r.account !== undefined && !accountIds.has(r.account))
      problems.push(`routes.mo[${i}].account: no account '${r.account}'`);
    for (const [k, pattern] of Object.entries(r.match ?? {})) {
      (pattern as string[]).forEach((p, j) => {
        const problem = patternProblem(p);
        if (problem) problems.push(`routes.mo[${i}].match.${k}[${j}]: ${problem}`);
      });
    }
  });
  return problems;
}

function patternProblem(pattern: string): string | undefined {
  if (!pattern.startsWith('re:')) return undefined;
  try {
    new RegExp(pattern.slice(3));
    return undefined;
  } catch (err) {
    return `bad regular expression: ${(err as Error).message}`;
  }
}
