// Public surface of the GSM modem layer: the AT reader (sans-I/O), the command session on
// top of it, and a modem on a serial port with its set-up, watch and reset.
export type { AtEvent, FinalResult } from './at.ts';
export { AtReader, atFields, finalResult } from './at.ts';
export type { ModemEvents, ModemHandlers, ModemOptions, ModemState } from './modem.ts';
export { Modem } from './modem.ts';
export type { AtSessionEvents } from './session.ts';
export { AtError, AtSession } from './session.ts';
