// The packaging files (Dockerfile, deploy/): Docker is not available where the tests run, so
// the Dockerfile is read for what it must hold; the systemd unit goes through
// `systemd-analyze verify` and its offline security score; the compose file's gateways
// are checked against its PostgreSQL service and their config against `config check`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { checkConfigText } from '../../src/config/index.ts';

const root = resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

test('Dockerfile: multi-stage, runs as a non-root user, ./var a volume, HEALTHCHECK on /ready', () => {
  const all = instructions(read('Dockerfile'));
  const froms = all.map((ins, i) => ({ ...ins, i })).filter((ins) => ins.op === 'FROM');
  assert.ok(froms.length >= 2, 'at least two stages');
  const stageNames = froms.map((f) => /\sAS\s+(\S+)/i.exec(f.args)?.[1]).filter(Boolean);
  const final = all.slice(froms.at(-1)!.i);
  assert.ok(
    final.some((ins) => ins.op === 'COPY' && stageNames.some((n) => ins.args.includes(`--from=${n}`))),
    'the final stage copies from an earlier one',
  );

  const user = final.findLast((ins) => ins.op === 'USER');
  assert.ok(user && !/^(root|0)(:|$)/.test(user.args), `final USER is not root: ${user?.args}`);
  const entry = final.findIndex((ins) => ins.op === 'ENTRYPOINT' || ins.op === 'CMD');
  assert.ok(final.indexOf(user) < entry, 'USER comes before the command');

  const workdir = final.findLast((ins) => ins.op === 'WORKDIR')?.args;
  const volume = final.find((ins) => ins.op === 'VOLUME')?.args ?? '';
  assert.ok(
    volume.includes(`${workdir}/var`),
    `VOLUME ${volume} holds ${workdir}/var (the default store ./var)`,
  );

  const health = final.find((ins) => ins.op === 'HEALTHCHECK')?.args ?? '';
  assert.match(health, /\bCMD\b.*\/ready\b/);
  assert.match(final.find((ins) => ins.op === 'EXPOSE')?.args ?? '', /\b8080\b.*\b2775\b/);
  assert.match(final.find((ins) => ins.op === 'ENTRYPOINT')?.args ?? '', /src\/cli\/main\.ts/);

  // Every file copied from the build context exists and is not left out by .dockerignore.
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const ins of all.filter((i) => i.op === 'COPY' && !i.args.includes('--from='))) {
    const sources = ins.args
      .split(/\s+/)
      .filter((a) => !a.startsWith('--'))
      .slice(0, -1);
    for (const source of sources) {
      assert.ok(existsSync(join(root, source)), `COPY ${source}: exists`);
      assert.ok(!ignored.includes(source.replace(/\/$/, '')), `COPY ${source}: not in .dockerignore`);
    }
  }
  assert.ok(
    ignored.includes('node_modules') && ignored.includes('var'),
    '.dockerignore leaves out node_modules and var',
  );
});

const systemdAnalyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;

test('deploy/smsgw.service: systemd-analyze verify finds nothing; hardened (offline exposure below 2)', {
  skip: systemdAnalyze ? false : 'systemd-analyze is not installed (apt-get install systemd)',
}, () => {
  const unit = read('deploy/smsgw.service');
  for (const setting of [
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'CapabilityBoundingSet=',
    'StateDirectory=smsgw',
  ])
    assert.match(unit, new RegExp(`^${setting}$`, 'm'), setting);
  // verify checks that the commands exist: point them at this checkout instead of /opt/smsgw.
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-unit-'));
  try {
    const file = join(dir, 'smsgw.service');
    writeFileSync(file, unit.replaceAll('/opt/smsgw', root));
    const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), '', 'no warnings (an unknown key is only a warning)');
    const security = spawnSync('systemd-analyze', ['security', '--offline=true', file], { encoding: 'utf8' });
    const exposure = /Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout)?.[1];
    assert.ok(exposure !== undefined, security.stdout + security.stderr);
    assert.ok(Number(exposure) < 2, `exposure ${exposure}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deploy/docker-compose.yml: two gateways on PostgreSQL, with a config that passes config check', () => {
  const compose = parse(read('deploy/docker-compose.yml'), { merge: true }) as {
    services: Record<
      string,
      {
        image?: string;
        build?: { context: string; dockerfile?: string };
        depends_on?: Record<string, { condition: string }>;
        environment?: Record<string, string>;
        volumes?: string[];
      }
    >;
  };
  const db = Object.entries(compose.services).find(([, s]) => s.image?.startsWith('postgres'));
  assert.ok(db, 'a PostgreSQL service');
  const gateways = Object.values(compose.services).filter((s) => s.build);
  assert.equal(gateways.length, 2);
  for (const g of gateways) {
    assert.ok(existsSync(join(root, 'deploy', g.build!.context, g.build!.dockerfile ?? 'Dockerfile')));
    assert.equal(g.depends_on?.[db[0]]?.condition, 'service_healthy');
    assert.match(g.environment?.SMSGW_STORE ?? '', new RegExp(`^postgres://[^@]+@${db[0]}:5432/`));
    const mount = g.volumes?.find((v) => v.endsWith(`:${g.environment?.SMSGW_CONFIG}:ro`));
    assert.ok(mount, 'the config file is mounted where SMSGW_CONFIG points');
    assert.ok(existsSync(join(root, 'deploy', mount.split(':')[0]!)));
  }
  const { findings, config } = checkConfigText(read('deploy/smsgw.yaml'), {
    SMSGW_STORE: 'postgres://smsgw:pw@db:5432/smsgw',
    SMSGW_API_KEY: 'api-key-123',
    SMSGW_ADMIN_KEY: 'admin-key-123',
  });
  assert.deepEqual(findings, []);
  assert.equal(config?.store, 'postgres://smsgw:pw@db:5432/smsgw');
});
