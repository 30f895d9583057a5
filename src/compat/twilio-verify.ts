// Twilio Verify v2 (CONTRACT §6): /v2/Services, /v2/Services/{sid}/Verifications and
// /VerificationCheck, over the gateway's own Verify service (src/apps): the same codes,
// limits and defences, in Twilio's resources, JSON and error codes. SMS is the only channel.
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { HttpPlugin } from '../api/index.ts';
import { type Verification, type VerifyService, verifyKind } from '../apps/index.ts';
import { GatewayError, normaliseNumber } from '../core/index.ts';
import type { StoredRecord } from '../store/index.ts';
import type { CompatContext } from './context.ts';
import { FormParams } from './form.ts';
import { idOfSid, notFound, refuseUnknownParams, sidOf, TwilioError, twilioScope } from './twilio.ts';

/** Verify's code for a bad parameter. */
const invalidParameter = 60200;
const serviceParams = new Set(['FriendlyName', 'CodeLength']);
/** Service options taken only as what this gateway does. */
const serviceFixed = {
  LookupEnabled: 'false',
  SkipSmsToLandlines: 'false',
  DtmfInputRequired: 'false',
  Psd2Enabled: 'false',
  DoNotShareWarningEnabled: 'false',
  CustomCodeEnabled: 'true',
  VerifyEventSubscriptionEnabled: 'false',
};
const verificationParams = new Set([
  'To',
  'Channel',
  'CustomFriendlyName',
  'Locale',
  'CustomCode',
  'AppHash',
]);
const checkParams = new Set(['Code', 'To', 'VerificationSid']);

const serviceKind = 'twilio-verify-service';
const base = 'https://verify.twilio.com/v2';

interface ServiceData {
  friendlyName: string;
  codeLength: number;
}

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

function serviceJson(r: StoredRecord<ServiceData>, accountSid: string) {
  const url = `${base}/Services/${r.id}`;
  return {
    sid: r.id,
    account_sid: accountSid,
    friendly_name: r.data.friendlyName,
    code_length: r.data.codeLength,
    lookup_enabled: false,
    psd2_enabled: false,
    skip_sms_to_landlines: false,
    dtmf_input_required: false,
    tts_name: null,
    do_not_share_warning_enabled: false,
    custom_code_enabled: true,
    push: {},
    totp: {},
    default_template_sid: null,
    verify_event_subscription_enabled: false,
    date_created: iso(r.createdAt),
    date_updated: iso(r.updatedAt),
    url,
    links: {
      verifications: `${url}/Verifications`,
      verification_checks: `${url}/VerificationCheck`,
    },
  };
}

function verificationJson(r: StoredRecord<Verification>, accountSid: string, valid = false) {
  const sid = sidOf(r.id, 'VE');
  return {
    sid,
    service_sid: r.data.tag,
    account_sid: accountSid,
    to: r.data.to,
    channel: 'sms',
    status: r.status,
    valid,
    lookup: {},
    amount: null,
    payee: null,
    send_code_attempts: r.data.sends.map((time, i) => ({
      attempt_sid: `VL${sid.slice(2, 32)}${i.toString(16).padStart(2, '0')}`,
      channel: 'sms',
      time: iso(time),
    })),
    date_created: iso(r.createdAt),
    date_updated: iso(r.updatedAt),
    sna: null,
    url: `${base}/Services/${r.data.tag}/Verifications/${sid}`,
  };
}

/** Verify's refusals in Twilio's codes (60200 bad parameter, 60202/60203 limits, 60205 country). */
function verifyError(err: unknown): never {
  if (!(err instanceof GatewayError)) throw err;
  switch (err.code) {
    case 'max_send_attempts_reached':
      throw new TwilioError(429, 60203, 'Max send attempts reached');
    case 'verify_rate_limited':
    case 'rate_limited':
      throw new TwilioError(429, 60203, `Too many verifications: ${err.message}`);
    case 'country_not_allowed':
      throw new TwilioError(400, 60605, `Verification delivery attempt blocked: ${err.message}`);
    case 'invalid_number':
      throw new TwilioError(400, 60200, `Invalid parameter \`To\`: ${err.message}`);
    case 'not_found':
      throw new TwilioError(404, 20404, `The requested resource was not found: ${err.message}`);
    default:
      throw err;
  }
}

export function twilioVerifyApi(ctx: CompatContext, verify: VerifyService): HttpPlugin {
  return async (app) => {
    twilioScope(app, ctx);

    const accountSid = (req: FastifyRequest) => req.twilioAccount.twilio.accountSid;
    const service = async (req: FastifyRequest) => {
      const { ServiceSid } = req.params as { ServiceSid: string };
      const r = await ctx.gateway.store.getRecord<ServiceData>(serviceKind, ServiceSid);
      if (!r || r.accountId !== req.twilioAccount.id) throw notFound(req.url.split('?')[0]!);
      return r;
    };
    const codeLength = (p: FormParams, fallback: number) => {
      const raw = p.get('CodeLength');
      if (raw === undefined) return fallback;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 4 || n > 10)
        throw new TwilioError(400, 60200, 'Invalid parameter `CodeLength`: must be 4 to 10');
      return n;
    };
    const friendlyName = (p: FormParams) => {
      const name = p.get('FriendlyName');
      if (name !== undefined && (name.length === 0 || name.length > 30))
        throw new TwilioError(400, 60200, 'Invalid parameter `FriendlyName`: 1 to 30 characters');
      return name;
    };

    app.post('/v2/Services', async (req, reply) => {
      const p = FormParams.ofRequest(req);
      refuseUnknownParams(p, serviceParams, serviceFixed, invalidParameter);
      const name = friendlyName(p);
      if (name === undefined)
        throw new TwilioError(400, 20001, 'Missing required parameter FriendlyName in the post body');
      const now = Date.now();
      const r = await ctx.gateway.store.putRecord<ServiceData>(
        {
          kind: serviceKind,
          id: `VA${randomBytes(16).toString('hex')}`,
          accountId: req.twilioAccount.id,
          ref: null,
          status: null,
          dueAt: null,
          createdAt: now,
          updatedAt: now,
          data: { friendlyName: name, codeLength: codeLength(p, 6) },
        },
        0,
      );
      return reply.code(201).send(serviceJson(r, accountSid(req)));
    });

    app.get('/v2/Services', async (req) => {
      const q = FormParams.ofRequest(req);
      refuseUnknownParams(q, new Set(['PageSize', 'PageToken']), { Page: '0' }, invalidParameter);
      const pageSize = Math.min(1000, Math.max(1, Number(q.get('PageSize') ?? 50) || 50));
      const page = await ctx.gateway.store.listRecords<ServiceData>(
        serviceKind,
        { accountId: req.twilioAccount.id },
        q.get('PageToken') ?? null,
        pageSize,
      );
      const url = `${base}/Services?PageSize=${pageSize}&Page=0`;
      return {
        services: page.data.map((r) => serviceJson(r, accountSid(req))),
        meta: {
          page: 0,
          page_size: pageSize,
          first_page_url: url,
          previous_page_url: null,
          url,
          next_page_url: page.nextCursor
            ? `${base}/Services?PageSize=${pageSize}&PageToken=${page.nextCursor}`
            : null,
          key: 'services',
        },
      };
    });

    app.get('/v2/Services/:ServiceSid', async (req) => serviceJson(await service(req), accountSid(req)));

    app.post('/v2/Services/:ServiceSid', async (req) => {
      const r = await service(req);
      const p = FormParams.ofRequest(req);
      refuseUnknownParams(p, serviceParams, serviceFixed, invalidParameter);
      const updated = await ctx.gateway.store.putRecord<ServiceData>(
        {
          ...r,
          updatedAt: Date.now(),
          data: {
            friendlyName: friendlyName(p) ?? r.data.friendlyName,
            codeLength: codeLength(p, r.data.codeLength),
          },
        },
        r.version,
      );
      return serviceJson(updated, accountSid(req));
    });

    app.delete('/v2/Services/:ServiceSid', async (req, reply) => {
      await ctx.gateway.store.deleteRecord(serviceKind, (await service(req)).id);
      return reply.code(204).send();
    });

    app.post('/v2/Services/:ServiceSid/Verifications', async (req, reply) => {
      const s = await service(req);
      const p = FormParams.ofRequest(req);
      refuseUnknownParams(p, verificationParams, {}, invalidParameter);
      const to = p.get('To');
      if (!to) throw new TwilioError(400, 20001, 'Missing required parameter To in the post body');
      const channel = p.get('Channel') ?? 'sms';
      if (channel !== 'sms')
        throw new TwilioError(
          400,
          60200,
          `Invalid parameter \`Channel\`: only sms is offered, not ${channel}`,
        );
      const name = p.get('CustomFriendlyName') ?? s.data.friendlyName;
      const locale = p.get('Locale');
      // The texts per locale are the account's, without a name to put in.
      if (locale && p.has('CustomFriendlyName'))
        throw new TwilioError(
          400,
          invalidParameter,
          'Invalid parameter `CustomFriendlyName`: not used with `Locale` (the localized texts carry no name)',
        );
      // As Twilio: a code of 4 to 10 characters, the one sent and checked.
      const code = p.get('CustomCode');
      if (code !== undefined && !/^[0-9A-Za-z]{4,10}$/.test(code))
        throw new TwilioError(
          400,
          invalidParameter,
          'Invalid parameter `CustomCode`: 4 to 10 letters or digits',
        );
      // Android's SMS Retriever reads the app's 11-character hash from the end of the text.
      const appHash = p.get('AppHash');
      if (appHash !== undefined && !/^[A-Za-z0-9+/]{11}$/.test(appHash))
        throw new TwilioError(400, invalidParameter, 'Invalid parameter `AppHash`: 11 characters');
      const record = await verify
        .start(req.twilioAccount.id, {
          to,
          codeLength: s.data.codeLength,
          ...(locale ? { locale } : { template: `Your ${name} verification code is: {{code}}` }),
          ...(code !== undefined ? { code } : {}),
          ...(appHash !== undefined ? { appHash } : {}),
          tag: s.id,
        })
        .catch(verifyError);
      return reply.code(201).send(verificationJson(record, accountSid(req)));
    });

    const verification = async (req: FastifyRequest) => {
      const s = await service(req);
      const { Sid } = req.params as { Sid: string };
      const id = idOfSid(Sid, ['VE']);
      const r = id === undefined ? null : await verify.get(req.twilioAccount.id, id).catch(() => null);
      if (!r || r.data.tag !== s.id) throw notFound(req.url.split('?')[0]!);
      return r;
    };

    app.get('/v2/Services/:ServiceSid/Verifications/:Sid', async (req) =>
      verificationJson(await verification(req), accountSid(req)),
    );

    app.post('/v2/Services/:ServiceSid/Verifications/:Sid', async (req) => {
      const r = await verification(req);
      const p = FormParams.ofRequest(req);
      refuseUnknownParams(p, new Set(['Status']), {}, invalidParameter);
      const status = p.get('Status');
      if (status !== 'canceled')
        throw new TwilioError(400, 60200, 'Invalid parameter `Status`: only canceled can be set');
      const canceled = await verify.cancel(req.twilioAccount.id, r.id).catch(verifyError);
      return verificationJson(canceled, accountSid(req));
    });

    app.post('/v2/Services/:ServiceSid/VerificationCheck', async (req) => {
      const s = await service(req);
      const p = FormParams.ofRequest(req);
      refuseUnknownParams(p, checkParams, {}, invalidParameter);
      const code = p.get('Code');
      if (!code) throw new TwilioError(400, 20001, 'Missing required parameter Code in the post body');
      const id = await pendingId(ctx, req.twilioAccount.id, s.id, p);
      if (!id) throw notFound(req.url.split('?')[0]!);
      const { record, valid } = await verify.check(req.twilioAccount.id, id, code).catch(verifyError);
      // As Twilio: an expired verification is gone; one with no checks left says so.
      if (record.status === 'expired') throw notFound(req.url.split('?')[0]!);
      if (record.status === 'max_attempts_reached' && !valid)
        throw new TwilioError(429, 60202, 'Max check attempts reached');
      return verificationJson(record, accountSid(req), valid);
    });
  };
}

/** The verification a check names: by VerificationSid, or the newest pending one to `To`. */
async function pendingId(
  ctx: CompatContext,
  accountId: string,
  serviceSid: string,
  p: FormParams,
): Promise<string | undefined> {
  const sid = p.get('VerificationSid');
  if (sid) return idOfSid(sid, ['VE']);
  const to = p.get('To');
  if (!to) throw new TwilioError(400, 60200, 'Invalid parameter: To or VerificationSid is required');
  const numbers = await ctx.gateway.store.listRecords<Verification>(
    verifyKind,
    {
      accountId,
      ref: normaliseNumber(to, ctx.accounts.get(accountId)?.defaultCountry) ?? to,
      status: 'pending',
    },
    null,
    20,
  );
  return numbers.data.find((r) => r.data.tag === serviceSid)?.id;
}
