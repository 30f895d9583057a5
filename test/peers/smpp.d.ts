// The part of the npm `smpp` package (farhadi/node-smpp 0.5.1, untyped) that the interop
// peers and the benchmarks use. PDU fields keep the package's snake_case spec names.
declare module 'smpp' {
  import { EventEmitter } from 'node:events';
  import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
  import type { ConnectionOptions, TlsOptions } from 'node:tls';

  /** A PDU: header fields, then the command's fields (decoded, or to be encoded) by name. */
  export class PDU {
    constructor(command: string, options?: Record<string, unknown>);
    command: string;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    /** The response to this request, with its sequence number. */
    response(options?: Record<string, unknown>): PDU;
  }

  type ResponseCallback = (pdu: PDU) => void;

  /** One connection, either role. Emits 'pdu' for every PDU read, then its command name. */
  export class Session extends EventEmitter {
    socket: Socket;
    /** Sends a PDU (a request gets the next sequence number); the callback gets its response. */
    send(pdu: PDU, responseCallback?: ResponseCallback): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    // One method per command builds and sends its PDU: session.submit_sm({…}, callback).
    bind_transceiver(options?: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    bind_transmitter(options?: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    bind_receiver(options?: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    submit_sm(options?: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    deliver_sm(options?: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    query_sm(options?: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    enquire_link(options?: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    unbind(options?: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
  }

  export interface ConnectOptions extends ConnectionOptions {
    /** smpp://host:port, or ssmpp://host:port for TLS. */
    url?: string;
    auto_enquire_link_period?: number;
  }

  /** A listening server (TLS when created with key and cert); it listens on TCP ports only. */
  export interface SmppServer extends NetServer {
    address(): AddressInfo;
  }

  export function createServer(listener: (session: Session) => void): SmppServer;
  export function createServer(options: TlsOptions, listener: (session: Session) => void): SmppServer;
  export function connect(options: ConnectOptions, listener?: () => void): Session;

  const smpp: {
    PDU: typeof PDU;
    Session: typeof Session;
    createServer: typeof createServer;
    connect: typeof connect;
  };
  export default smpp;
}
