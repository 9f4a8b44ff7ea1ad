/**
 * docker-compose.yml, checked statically (no Docker engine on these machines): it is valid against the
 * Compose Specification's JSON schema (vendored: test/fixtures/compose-spec.schema.json, see
 * test/fixtures/README.md), before and after variable interpolation, and it keeps listwash's rules —
 * pinned images, one build of the listwash image shared by every listwash service, health checks,
 * restart policies, the prober's identity required, the bucket created only once the store is healthy.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { COMPOSE_TEXT, MissingVariable, ROOT, composeDocument, interpolate, interpolateAll, services, type ComposeService } from './compose-file.js';

const IDENTITY = { LISTWASH_HELO_NAME: 'verify.example.org', LISTWASH_MAIL_FROM: 'bounces@verify.example.org' };
/** The services that run listwash itself. */
const LISTWASH_SERVICES = ['worker', 'cli'];

const doc = composeDocument();
const svc = services(doc);

function validator() {
  const schema = JSON.parse(readFileSync(`${ROOT}/test/fixtures/compose-spec.schema.json`, 'utf8')) as Record<string, unknown>;
  // The schema names its draft-07 meta-schema by an https URL Ajv does not know by that name; it is draft-07.
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, validateFormats: false });
  return ajv.compile({ ...schema, $schema: 'http://json-schema.org/draft-07/schema#' });
}

function dependsOn(s: ComposeService): Record<string, string> {
  const d = s.depends_on ?? {};
  return Array.isArray(d) ? Object.fromEntries(d.map((n) => [n, 'service_started'])) : Object.fromEntries(Object.entries(d).map(([n, v]) => [n, v.condition]));
}

function env(s: ComposeService): Record<string, string> {
  const e = s.environment ?? {};
  return Array.isArray(e) ? Object.fromEntries(e.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) : e;
}

const longRunning = (s: ComposeService) => !s.profiles && (s.restart === 'unless-stopped' || s.restart === 'always');

describe('docker-compose.yml against the Compose Specification schema', () => {
  const validate = validator();

  it('is valid as written and after interpolation', () => {
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(interpolateAll(doc, IDENTITY)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('the schema check is not vacuous: an unknown service key and a bad depends_on condition are rejected', () => {
    const bad = structuredClone(doc) as { services: Record<string, Record<string, unknown>> };
    (bad.services.worker as Record<string, unknown>).restart_policy = 'always';
    expect(validate(bad)).toBe(false);
    const bad2 = structuredClone(doc) as { services: Record<string, { depends_on: Record<string, { condition: string }> }> };
    (bad2.services.worker as { depends_on: Record<string, { condition: string }> }).depends_on.redis = { condition: 'service_ready' };
    expect(validate(bad2)).toBe(false);
  });
});

describe('docker-compose.yml for listwash', () => {
  it('pins every image to a version tag (no :latest, no untagged image)', () => {
    for (const [name, s] of Object.entries(svc)) {
      expect(s.image, name).toBeDefined();
      const image = s.image as string;
      if (image === svc.worker?.image) continue; // built here
      const tag = image.slice(image.lastIndexOf(':') + 1);
      expect(image, name).toMatch(/^[a-z0-9./-]+:[^:/]+$/);
      expect(tag, name).not.toBe('latest');
      expect(tag, name).toMatch(/\d/);
    }
    expect(COMPOSE_TEXT).not.toMatch(/:latest\b/);
  });

  it('builds the listwash image once, from the Dockerfile, and every listwash service runs that image', () => {
    const building = Object.entries(svc).filter(([, s]) => s.build !== undefined);
    expect(building.map(([n]) => n)).toEqual(['worker']);
    expect(svc.worker?.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    const image = svc.worker?.image as string;
    for (const name of LISTWASH_SERVICES) expect(svc[name]?.image, name).toBe(image);
    // Whatever carries listwash's settings is a listwash service.
    const withSettings = Object.entries(svc).filter(([, s]) => 'LISTWASH_HELO_NAME' in env(s)).map(([n]) => n);
    expect(withSettings.sort()).toEqual([...LISTWASH_SERVICES].sort());
  });

  it('builds nothing at container start and keeps the image entrypoint (tini → listwash) as PID 1: no shell wrapper, no mounted sources', () => {
    for (const name of LISTWASH_SERVICES) {
      const s = svc[name] as ComposeService;
      expect(s.entrypoint, name).toBeUndefined();
      const command = [s.command ?? []].flat().join(' ');
      expect(command, name).not.toMatch(/\b(sh|bash|npm|npx|node)\b/);
      expect(s.volumes ?? [], name).toEqual([]);
    }
    expect(svc.worker?.command).toEqual(['worker']);
  });

  it('lets the workers scale: no fixed container name, no published port', () => {
    expect(svc.worker?.container_name).toBeUndefined();
    expect(svc.worker?.ports).toBeUndefined();
  });

  it('gives every long-running service a health check and a restart policy, and one-off services none that restarts forever', () => {
    const names = Object.keys(svc);
    expect(names.filter((n) => longRunning(svc[n] as ComposeService)).sort()).toEqual(['redis', 's3', 'worker']);
    for (const n of names) {
      const s = svc[n] as ComposeService;
      expect(s.restart, n).toMatch(/^(unless-stopped|always|on-failure|no)$/);
      if (longRunning(s)) {
        expect(s.healthcheck?.test, n).toBeDefined();
        expect(s.healthcheck?.disable, n).not.toBe(true);
      }
    }
    expect(svc['bucket-init']?.restart).toBe('on-failure');
  });

  it('keeps Redis append-only on a volume', () => {
    const command = [svc.redis?.command ?? []].flat().join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(svc.redis?.volumes).toEqual(['redis-data:/data']);
  });

  it('creates the bucket only after the store is healthy, and starts workers only after Redis is healthy and the bucket exists', () => {
    expect(dependsOn(svc['bucket-init'] as ComposeService)).toEqual({ s3: 'service_healthy' });
    for (const name of LISTWASH_SERVICES) expect(dependsOn(svc[name] as ComposeService), name).toEqual({ redis: 'service_healthy', 'bucket-init': 'service_completed_successfully' });
  });

  it('requires LISTWASH_HELO_NAME and LISTWASH_MAIL_FROM with ${VAR:?message}: compose refuses to start without them', () => {
    for (const name of LISTWASH_SERVICES) {
      const e = env(svc[name] as ComposeService);
      expect(e.LISTWASH_HELO_NAME).toMatch(/^\$\{LISTWASH_HELO_NAME:\?.+\}$/);
      expect(e.LISTWASH_MAIL_FROM).toMatch(/^\$\{LISTWASH_MAIL_FROM:\?.+\}$/);
    }
    expect(() => interpolateAll(doc, {})).toThrow(MissingVariable);
    expect(() => interpolateAll(doc, { LISTWASH_HELO_NAME: 'verify.example.org' })).toThrow(/LISTWASH_MAIL_FROM/);
    expect(() => interpolateAll(doc, { ...IDENTITY, LISTWASH_HELO_NAME: '' })).toThrow(/LISTWASH_HELO_NAME/);
    const ok = services(interpolateAll(doc, IDENTITY) as Record<string, unknown>);
    expect(env(ok.worker as ComposeService)).toMatchObject({ ...IDENTITY, REDIS_URL: 'redis://redis:6379', S3_ENDPOINT: 'http://s3:8333' });
  });
});

describe('compose variable interpolation (the test helper)', () => {
  it('follows the Compose Specification for defaults, required values and $$', () => {
    expect(interpolate('${A:-x} ${A-y} ${B:-x} ${B-y} $$A $A', { A: '' })).toBe('x  x y $A ');
    expect(interpolate('${A:?need A}', { A: 'v' })).toBe('v');
    expect(() => interpolate('${A:?need A}', { A: '' })).toThrow('need A');
    expect(interpolate('${A?need A}', { A: '' })).toBe('');
  });
});
