// Twilio Lookup v2 (`GET /v2/PhoneNumbers/{PhoneNumber}`) over the gateway's own number
// lookups: the offline one answers the basic fields (valid, country, national format), and
// `Fields=line_type_intelligence` adds the line type with the online lookup's MCC, MNC and
// carrier when one is configured. Same Basic auth as the other Twilio APIs.

import type { HttpPlugin } from '../api/index.ts';
import { lookUpBoth } from '../api/index.ts';
import { isCountryCode, nationalFormat, normaliseNumber } from '../core/index.ts';
import type { CompatContext } from './context.ts';
import { FormParams } from './form.ts';
import { notFound, refuseUnknownParams, TwilioError, twilioScope } from './twilio.ts';

const fetchParams = new Set(['Fields', 'CountryCode']);
/** The data packages this gateway answers; the others Twilio sells are refused, not dropped. */
const knownFields = new Set(['line_type_intelligence']);

/** libphonenumber's line types in Lookup v2's words. */
const twilioLineTypes = new Map<string, string>(
  Object.entries({
    mobile: 'mobile',
    fixed_line: 'landline',
    toll_free: 'tollFree',
    premium_rate: 'premium',
    shared_cost: 'sharedCost',
    voip: 'nonFixedVoip',
    personal_number: 'personal',
    pager: 'pager',
    uan: 'uan',
    voicemail: 'voicemail',
  }),
);

export function twilioLookupApi(ctx: CompatContext): HttpPlugin {
  return async (app) => {
    twilioScope(app, ctx);
    app.get('/v2/PhoneNumbers/:PhoneNumber', async (req) => {
      const p = FormParams.ofRequest(req);
      refuseUnknownParams(p, fetchParams, {}, 60200);
      const fields = (p.get('Fields') ?? '')
        .split(',')
        .map((f) => f.trim())
        .filter((f) => f.length > 0);
      for (const f of fields)
        if (!knownFields.has(f))
          throw new TwilioError(
            400,
            60200,
            `Invalid parameter Fields: ${f} is not supported by this gateway`,
          );
      const country = p.get('CountryCode')?.toUpperCase();
      if (country !== undefined && !isCountryCode(country))
        throw new TwilioError(
          400,
          60200,
          'Invalid parameter CountryCode: an ISO 3166 alpha-2 code such as GB',
        );
      const { PhoneNumber } = req.params as { PhoneNumber: string };
      // A national number is read in CountryCode, else in the account's defaultCountry.
      const number = normaliseNumber(PhoneNumber, country ?? req.twilioAccount.defaultCountry);
      if (number === undefined || !number.startsWith('+')) throw notFound(req.url.split('?')[0]!);
      const found = await lookUpBoth(
        number,
        fields.includes('line_type_intelligence') ? ctx.gateway.networkLookup : undefined,
      );
      const online = found.online ?? null;
      return {
        calling_country_code: found.countryCallingCode,
        country_code: found.country,
        phone_number: number,
        national_format: nationalFormat(number),
        valid: found.valid,
        validation_errors: found.valid ? [] : ['INVALID_BUT_POSSIBLE'],
        caller_name: null,
        sim_swap: null,
        call_forwarding: null,
        line_status: null,
        line_type_intelligence: fields.includes('line_type_intelligence')
          ? {
              mobile_country_code: online?.mcc ?? null,
              mobile_network_code: online?.mnc ?? null,
              carrier_name: online?.carrier ?? null,
              type: (found.lineType && twilioLineTypes.get(found.lineType)) ?? 'unknown',
              error_code: null,
            }
          : null,
        identity_match: null,
        reassigned_number: null,
        sms_pumping_risk: null,
        phone_number_quality_score: null,
        pre_fill: null,
        url: `https://lookups.twilio.com/v2/PhoneNumbers/${encodeURIComponent(number)}`,
      };
    });
  };
}
