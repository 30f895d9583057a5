// Public surface of the CIMD2 protocol (Nokia's Computer Interface to Message Distribution,
// version 2): the packet codec, its character conversion, a session and the client.
export * from './charset.ts';
export * from './client.ts';
export * from './codec.ts';
export * from './constants.ts';
export * from './session.ts';
