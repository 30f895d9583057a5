// Public surface of the SMPP protocol layer: a sans-I/O codec (constants, pdu, tlv, codec,
// framer, receipt, time) and the session layer on top (session, client, server).
export * from './address.ts';
export * from './client.ts';
export * from './codec.ts';
export * from './constants.ts';
export * from './errors.ts';
export * from './framer.ts';
export * from './pdu.ts';
export * from './receipt.ts';
export * from './server.ts';
export * from './session.ts';
export * from './time.ts';
export * from './tlv.ts';
