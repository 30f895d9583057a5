// A hand-driven SMPP endpoint for tests: a plain socket plus our framer, so a test can
// send exactly the bytes it wants and see exactly what comes back.
import net from 'node:net';
import type { Pdu, PduOf } from '../../src/smpp/index.ts';
import { encodePdu, PduFramer, shortMessagePdu } from '../../src/smpp/index.ts';

export class RawPeer {
  readonly socket: net.Socket;
  readonly received: Pdu[] = [];
  chunks = 0;
  closed = false;
  #waiters: Array<() => void> = [];

  constructor(socket: net.Socket) {
    this.socket = socket;
    const framer = new PduFramer({
      pdu: (pdu) => {
        this.received.push(pdu);
        this.#wake();
      },
      invalid: () => {},
      fatal: () => {},
    });
    socket.on('data', (chunk: Buffer) => {
      this.chunks++;
      framer.push(chunk);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  send(pdu: Pdu): void {
    this.socket.write(encodePdu(pdu));
  }

  sendBytes(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits until `predicate` holds over what was received (or the socket closed). */
  async until(predicate: (received: Pdu[]) => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (this.closed) throw new Error('peer socket closed while waiting');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received: ${this.received.map((p) => p.command).join(',')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket still open');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}

/** A listening socket whose connections are RawPeers (an SMSC the test drives by hand). */
export async function rawServer(
  onPeer: (peer: RawPeer) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onPeer(new RawPeer(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export function submitSm(fields: Partial<Pdu> = {}): Pdu {
  return shortMessagePdu('submit_sm', {
    sequenceNumber: 1,
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '447700900000',
    destAddrTon: 1,
    destAddrNpi: 1,
    destinationAddr: '447700900001',
    shortMessage: Buffer.from('hello'),
    ...(fields as Partial<PduOf<'submit_sm'>>),
  });
}

export function bindPdu(
  command: 'bind_transmitter' | 'bind_receiver' | 'bind_transceiver',
  sequenceNumber = 1,
  password = 'pw',
): Pdu {
  return {
    command,
    commandStatus: 0,
    sequenceNumber,
    systemId: 'esme',
    password,
    systemType: '',
    interfaceVersion: 0x34,
    addrTon: 0,
    addrNpi: 0,
    addressRange: '',
  };
}
