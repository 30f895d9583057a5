// Public surface of the SMS text layer: GSM 7-bit (with national language tables), UCS-2,
// Latin-1, IA5 and binary encodings; data_coding; UDH; splitting into parts and reassembly;
// the TS 23.040 PDUs of GSM modems.
export * from './charsets.ts';
export * from './data-coding.ts';
export * from './errors.ts';
export * from './gsm7.ts';
export type { LockingShiftLanguage, NationalLanguage } from './gsm7-tables.ts';
export { NATIONAL_LANGUAGE_ID, NATIONAL_LANGUAGES } from './gsm7-tables.ts';
export * from './reassembler.ts';
export * from './smart-replace.ts';
export * from './split.ts';
export * from './tpdu.ts';
export * from './udh.ts';
