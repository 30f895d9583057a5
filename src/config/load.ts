// Reads, substitutes and validates the config file. Every problem is reported as one line
// naming its path (`connectors[1].port: expected integer 1..65535`), all at once.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { matchProblems, patternProblem } from '../core/index.ts';
import { lookupAndServiceProblems } from './lookup-services.ts';
import { configSchema, moRoute } from './schema.ts';
import { eachSetting } from './settings.ts';
import type { GatewayConfig, MoRouteConfig } from './types.ts';

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * What compile makes, made when first wanted and let go a minute after its last use. The
 * config validators are ajv's code for the whole schema (about 2.4 MB of heap, 0.1 s to
 * compile), wanted at start-up, on a reload and by the management API's changes: an idle
 * gateway need not hold them.
 */
function heldWhileUsed<T>(compile: () => T, keepMs = 60_000): () => T {
  let compiled: T | null = null;
  const letGo = setTimeout(() => {
    compiled = null;
  }, keepMs);
  letGo.unref();
  return () => {
    compiled ??= compile();
    letGo.refresh();
    return compiled;
  };
}

const validator = (schema: object) => () =>
  new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true }).compile(schema);
const configValidator = heldWhileUsed(validator(configSchema));
const moValidator = heldWhileUsed(validator({ type: 'array', items: moRoute, maxItems: 10_000 }));

/**
 * `override`: changes made to the file's settings before they are checked (the command
 * line's and the environment's), so that what is checked is what runs.
 */
export function loadConfigFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  override?: (raw: Record<string, unknown>) => void,
): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    ]);
  }
  return parseConfig(text, env, override);
}

/** Parses YAML (JSON is YAML too), substitutes `${ENV}`, applies `override` and validates. */
export function parseConfig(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
  override?: (raw: Record<string, unknown>) => void,
): GatewayConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => `line ${e.linePos?.[0].line ?? 0}: ${e.message.split('\n')[0]}`),
    );
  }
  const raw = doc.toJS() ?? {};
  const problems: string[] = [];
  const substituted = substituteEnv(raw, '', env, problems);
  if (override && typeof substituted === 'object' && substituted !== null)
    override(substituted as Record<string, unknown>);
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
  const validate = configValidator();
  if (!validate(value)) throw new ConfigError(dedupe((validate.errors ?? []).flatMap(describeError)));
  const config = value as GatewayConfig;
  const problems = [...unwrapKeyAddresses(config), ...crossCheck(config)];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * Validates MO rules given at run time (the admin API) as the config file's `routes.mo`
 * would be, problems named by the same paths; `accountIds`: the accounts they may name.
 */
export function validateMoRoutes(value: unknown, accountIds: ReadonlySet<string>): MoRouteConfig[] {
  const validateMo = moValidator();
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
  // An interceptor runs code from the gateway's disk: only the operator's file names one.
  routes.forEach((r, i) => {
    if (r.interceptor)
      problems.push(`routes.mo[${i}].interceptor: only the config file may set an interceptor`);
  });
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
    | { type?: string | string[]; minimum?: number; maximum?: number; description?: string }
    | undefined;
  const range = (s: typeof schema) =>
    s?.type === 'integer' || s?.type === 'number'
      ? `expected ${s.type}${s.minimum !== undefined && s.maximum !== undefined ? ` ${s.minimum}..${s.maximum}` : ''}`
      : undefined;
  switch (e.keyword) {
    case 'type':
    case 'minimum':
    case 'maximum':
      if (Array.isArray(schema?.type) && schema.description)
        return [`${path}: expected ${schema.description}`];
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

/** A request header that carries a credential (its value is secret), by its name. */
export function isCredentialHeader(name: string): boolean {
  return /auth|key|token|secret|password|signature/i.test(name);
}

/** What a schema cannot say: ids unique, routes naming connectors and accounts that exist. */
/**
 * `apiKeys: [{key, allowIps}]` in the file: the key goes into `apiKeys` as every other,
 * its addresses into `policy.keyAllowIps`; returns the entries that are not addresses.
 */
function unwrapKeyAddresses(config: GatewayConfig): string[] {
  const problems: string[] = [];
  config.accounts.forEach((a, i) => {
    const entries = a.apiKeys as Array<string | { key: string; allowIps?: string[] }>;
    a.apiKeys = entries.map((entry, j) => {
      if (typeof entry === 'string') return entry;
      if (entry.allowIps) {
        a.policy = { ...a.policy, keyAllowIps: { ...a.policy?.keyAllowIps, [entry.key]: entry.allowIps } };
        entry.allowIps.forEach((address, k) => {
          const problem = addressEntryProblem(address);
          if (problem) problems.push(`accounts[${i}].apiKeys[${j}].allowIps[${k}]: ${problem}`);
        });
      }
      return entry.key;
    });
  });
  return problems;
}

function crossCheck(config: GatewayConfig): string[] {
  const problems: string[] = [];
  const connectorIds = new Set<string>();
  const modemDevices = new Map<string, string>();
  config.connectors.forEach((c, i) => {
    if (connectorIds.has(c.id)) problems.push(`connectors[${i}].id: duplicate id '${c.id}'`);
    connectorIds.add(c.id);
    // broadcast_sm exists from SMPP 5.0 on.
    if (c.type === 'smpp' && c.broadcast && c.interfaceVersion !== '5.0')
      problems.push(`connectors[${i}].broadcast: needs interfaceVersion 5.0`);
    // A serial port takes one owner: two would read each other's answers.
    if (c.type === 'modem')
      c.devices.forEach((device, j) => {
        const owner = modemDevices.get(device);
        if (owner !== undefined)
          problems.push(`connectors[${i}].devices[${j}]: ${device} is already used by connector '${owner}'`);
        else modemDevices.set(device, c.id);
      });
    // Pushes are authenticated by a secret derived from the credentials, or given.
    if (c.type === 'http' && !c.preset && (c.receipts || c.inbound) && !c.secret && !c.auth) {
      if (!Object.keys(c.headers ?? {}).some(isCredentialHeader))
        problems.push(`connectors[${i}].secret: required: no credentials to derive the push secret from`);
    }
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
    for (const [k, list] of Object.entries(a.policy?.destinations ?? {})) {
      list.forEach((p, j) => {
        const problem = patternProblem(p);
        if (problem) problems.push(`accounts[${i}].policy.destinations.${k}[${j}]: ${problem}`);
      });
    }
    for (const [path, list] of [
      ['policy.allowIps', a.policy?.allowIps],
      ['smpp.allowIps', a.smpp?.allowIps],
    ] as const) {
      list?.forEach((entry, j) => {
        const problem = addressEntryProblem(entry);
        if (problem) problems.push(`accounts[${i}].${path}[${j}]: ${problem}`);
      });
    }
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
    if (r.quality && r.strategy !== 'least-cost')
      problems.push(`routes.mt[${i}].quality: only for strategy least-cost`);
    for (const p of matchProblems(r.match, ['to', 'from', 'account']))
      problems.push(`routes.mt[${i}].match.${p.field}: ${p.message}`);
  });
  config.connectors.forEach((c, i) => {
    c.costs?.forEach((entry, j) => {
      entry.to.forEach((p, k) => {
        const problem = patternProblem(p);
        if (problem) problems.push(`connectors[${i}].costs[${j}].to[${k}]: ${problem}`);
      });
    });
  });
  config.pricing?.forEach((entry, i) => {
    entry.match?.to?.forEach((p, j) => {
      const problem = patternProblem(p);
      if (problem) problems.push(`pricing[${i}].match.to[${j}]: ${problem}`);
    });
  });
  problems.push(...moRouteProblems(config.routes.mo, accountIds));
  problems.push(...lookupAndServiceProblems(config));
  problems.push(...interceptorProblems(config));
  problems.push(...certificateProblems(config));
  problems.push(...listenProblems(config));
  config.callbacks?.allow.forEach((entry, i) => {
    if (!allowEntryValid(entry))
      problems.push(`callbacks.allow[${i}]: expected a CIDR range (10.0.0.0/8), an address or a host name`);
  });
  if (config.callbacks && config.callbacks.receiverConcurrency > config.callbacks.concurrency)
    problems.push(
      `callbacks.receiverConcurrency: ${config.callbacks.receiverConcurrency} is more than callbacks.concurrency (${config.callbacks.concurrency})`,
    );
  return problems;
}

/** Interceptor modules that are not there to load (whether they load is tried at start and by `config check`). */
function interceptorProblems(config: GatewayConfig): string[] {
  const problems: string[] = [];
  for (const kind of ['mt', 'mo'] as const) {
    config.routes[kind].forEach((r, i) => {
      const module = r.interceptor?.module;
      if (module === undefined) return;
      try {
        if (!statSync(module).isFile())
          problems.push(`routes.${kind}[${i}].interceptor.module: ${module} is not a file`);
      } catch {
        problems.push(`routes.${kind}[${i}].interceptor.module: no such file ${module}`);
      }
    });
  }
  return problems;
}

/** The TLS files the gateway reads at start: found, readable, PEM of the right kind, a key that fits its certificate. */
function certificateProblems(config: GatewayConfig): string[] {
  const problems: string[] = [];
  const read = (path: string, file: string): Buffer | undefined => {
    try {
      return readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
      problems.push(`${path}: cannot read ${file}: ${why}`);
      return undefined;
    }
  };
  const parse = (path: string, file: string, check: (pem: Buffer) => unknown, kind: string) => {
    const pem = read(path, file);
    if (pem === undefined) return undefined;
    try {
      check(pem);
      return pem;
    } catch {
      problems.push(`${path}: ${file} holds no PEM ${kind}`);
      return undefined;
    }
  };
  const certificate = (path: string, file: string) =>
    parse(path, file, (pem) => new X509Certificate(pem), 'certificate');
  const pair = (path: string, files: { cert: string; key: string }) => {
    const cert = certificate(`${path}.cert`, files.cert);
    const key = parse(`${path}.key`, files.key, (pem) => createPrivateKey(pem), 'private key');
    if (cert === undefined || key === undefined) return;
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      // OpenSSL's reason without its code: `error:05800074:x509 certificate routines::key values mismatch`.
      const reason = (err as Error).message.replace(/^error:.*::/, '');
      problems.push(`${path}: ${files.key} does not fit ${files.cert} (${reason})`);
    }
  };
  if (config.http.tls) pair('http.tls', config.http.tls);
  const smppTls = config.smppServer?.tls;
  if (smppTls) {
    pair('smppServer.tls', smppTls);
    if (smppTls.ca !== undefined) certificate('smppServer.tls.ca', smppTls.ca);
  }
  config.connectors.forEach((c, i) => {
    if (c.type === 'smpp' && typeof c.tls === 'object' && c.tls.ca !== undefined)
      certificate(`connectors[${i}].tls.ca`, c.tls.ca);
  });
  return problems;
}

/**
 * Every `listen` of the config (found by name, wherever it is): a port the schema's
 * pattern lets through but no socket takes, and two servers on one address — which `serve`
 * would only find out when the second fails to listen.
 */
function listenProblems(config: GatewayConfig): string[] {
  const problems: string[] = [];
  const taken: Array<{ path: string; host: string; port: number }> = [];
  const wildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '[::]';
  const check = (listen: string, path: string) => {
    const at = listen.lastIndexOf(':');
    const host = listen.slice(0, at).toLowerCase();
    const port = Number(listen.slice(at + 1));
    if (!(port >= 0 && port <= 65535)) {
      problems.push(`${path}: port ${listen.slice(at + 1)} is out of range 0..65535`);
      return;
    }
    if (port === 0) return; // any free port: never a clash
    const clash = taken.find(
      (t) => t.port === port && (t.host === host || wildcard(t.host) || wildcard(host)),
    );
    if (clash) problems.push(`${path}: ${listen} is already taken by ${clash.path}`);
    taken.push({ path, host, port });
  };
  eachSetting(config, (path, key, value) => {
    if (key === 'listen' && typeof value === 'string') check(value, path);
  });
  return problems;
}

/** A `callbacks.allow` entry: a CIDR range, an address, or a host name (`*.` for a whole domain). */
function allowEntryValid(entry: string): boolean {
  const slash = entry.indexOf('/');
  if (slash >= 0) {
    const family = isIP(entry.slice(0, slash));
    const bits = entry.slice(slash + 1);
    return family !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
  }
  return (
    isIP(entry) !== 0 ||
    /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/i.test(entry)
  );
}

function moRouteProblems(routes: readonly MoRouteConfig[], accountIds: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  routes.forEach((r, i) => {
    // A rule must take the message somewhere.
    if (r.account === undefined && r.url === undefined && r.reply === undefined)
      problems.push(`routes.mo[${i}]: needs an account, a url or a reply`);
    if (r.account !== undefined && !accountIds.has(r.account))
      problems.push(`routes.mo[${i}].account: no account '${r.account}'`);
    for (const p of matchProblems(r.match, ['to', 'from', 'connector', 'keyword']))
      problems.push(`routes.mo[${i}].match.${p.field}: ${p.message}`);
  });
  return problems;
}

/** Why an allow-list entry (`allowIps`) is not an address or CIDR range; undefined when it is one. */
export function addressEntryProblem(entry: string): string | undefined {
  const [network, bits, extra] = entry.split('/');
  const family = isIP(network ?? '');
  const max = family === 4 ? 32 : 128;
  if (
    family === 0 ||
    extra !== undefined ||
    (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))
  )
    return 'expected an address or a CIDR range (10.0.0.0/8, 2001:db8::/32)';
  return undefined;
}
