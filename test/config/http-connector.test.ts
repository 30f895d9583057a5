// `type: http` in the config: what each preset needs, named by its path; generic settings;
// a push secret needed where nothing secret could derive one; http.publicUrl.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import { configProblems as problems } from './problems.ts';

test('each preset names what it lacks; a complete one takes the defaults', () => {
  assert.deepEqual(problems('connectors: [{ id: t, type: http, preset: twilio }]'), [
    'connectors[0].accountSid: required',
    'connectors[0].authToken: required',
  ]);
  assert.deepEqual(problems('connectors: [{ id: k, type: http, preset: kannel, username: u }]'), [
    'connectors[0].url: required',
    'connectors[0].password: required',
  ]);
  assert.deepEqual(problems('connectors: [{ id: s, type: http, preset: smsgw, url: "http://x" }]'), [
    'connectors[0].apiKey: required',
  ]);
  assert.deepEqual(problems('connectors: [{ id: g, type: http }]'), [
    'connectors[0].url: required',
    'connectors[0].body: required',
  ]);
  assert.deepEqual(problems('connectors: [{ id: g, type: http, preset: other }]'), [
    'connectors[0].preset: expected twilio, kannel, smsgw or vonage (leave out for generic settings)',
  ]);
  const config = parseConfig(
    'connectors: [{ id: t, type: http, preset: twilio, accountSid: AC1, authToken: tok }]',
  );
  assert.deepEqual(config.connectors[0], {
    id: 't',
    type: 'http',
    preset: 'twilio',
    accountSid: 'AC1',
    authToken: 'tok',
    method: 'POST',
    format: 'json',
    accepted: {},
    longMessages: 'whole',
    tps: 0,
    concurrency: 32,
    timeoutSeconds: 10,
  });
});

test('generic settings that read pushes need a secret unless a credential can derive one', () => {
  const generic = (extra: string) =>
    `connectors: [{ id: g, type: http, url: "http://x", body: { to: "{{to}}" }, receipts: { idPath: id, statusPath: s }${extra} }]`;
  const needed = ['connectors[0].secret: required: no credentials to derive the push secret from'];
  assert.deepEqual(problems(generic('')), needed);
  assert.deepEqual(problems(generic(', headers: { X-Api-Version: "2" }')), needed);
  assert.deepEqual(problems(generic(', headers: { X-Api-Key: k }')), []);
  assert.deepEqual(problems(generic(', auth: { type: bearer, token: t }')), []);
  assert.deepEqual(problems(generic(', secret: long-enough-secret')), []);
  assert.deepEqual(problems(generic(', secret: short')), [
    'connectors[0].secret: expected at least 8 characters',
  ]);
});

test('http.publicUrl is an http(s) URL', () => {
  assert.deepEqual(problems('http: { publicUrl: "https://gw.example.com" }'), []);
  assert.deepEqual(problems('http: { publicUrl: "gw.example.com" }'), [
    'http.publicUrl: expected an http:// or https:// URL: where providers reach this gateway (the receipt and inbound URLs of http connectors; default http:// + listen)',
  ]);
});
