// What went over a TCP connection, for Wireshark to judge: a relay between a client and its
// server records every chunk each way, writes them as a pcap (raw IPv4, one TCP segment per
// chunk, after a handshake), and `malformed` runs tshark's dissector over it. Loopback
// capture is not available everywhere; a file we write is.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';

interface Chunk {
  /** Which connection through the relay, from 0. */
  connection: number;
  fromClient: boolean;
  data: Buffer;
  at: number;
}

export class RecordingRelay {
  readonly chunks: Chunk[] = [];
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  port = 0;

  constructor(targetPort: number, targetHost = '127.0.0.1') {
    let connections = 0;
    this.#server = net.createServer((client) => {
      const connection = connections++;
      const upstream = net.connect(targetPort, targetHost);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (data: Buffer) => {
        this.chunks.push({ connection, fromClient: true, data: Buffer.from(data), at: Date.now() });
        upstream.write(data);
      });
      upstream.on('data', (data: Buffer) => {
        this.chunks.push({ connection, fromClient: false, data: Buffer.from(data), at: Date.now() });
        client.write(data);
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((r) => this.#server.close(r));
  }

  /** The recorded connections as a pcap file, the server on `serverPort`, each its own TCP stream. */
  writePcap(file: string, serverPort: number): void {
    const packets: Buffer[] = [];
    const streams = new Map<number, { clientPort: number; client: number; server: number }>();
    const none = Buffer.alloc(0);
    const segment = (connection: number, fromClient: boolean, flags: number, data: Buffer, at: number) => {
      let stream = streams.get(connection);
      if (!stream) {
        stream = { clientPort: 40000 + connection, client: 1000, server: 5000 };
        streams.set(connection, stream);
        segment(connection, true, 0x02, none, at); // SYN
        segment(connection, false, 0x12, none, at); // SYN-ACK
        segment(connection, true, 0x10, none, at); // ACK
      }
      const [own, other] = fromClient ? (['client', 'server'] as const) : (['server', 'client'] as const);
      const ports = fromClient ? [stream.clientPort, serverPort] : [serverPort, stream.clientPort];
      const packet = ipv4Tcp(ports[0]!, ports[1]!, stream[own], stream[other], flags, data);
      const record = Buffer.alloc(16);
      record.writeUInt32LE(Math.floor(at / 1000), 0);
      record.writeUInt32LE((at % 1000) * 1000, 4);
      record.writeUInt32LE(packet.length, 8);
      record.writeUInt32LE(packet.length, 12);
      packets.push(record, packet);
      stream[own] += data.length + (flags & 0x02 ? 1 : 0);
    };
    for (const chunk of this.chunks) {
      // Segments of at most an Ethernet MSS, so every IPv4 length fits.
      for (let at = 0; at < chunk.data.length; at += 1460)
        segment(chunk.connection, chunk.fromClient, 0x18, chunk.data.subarray(at, at + 1460), chunk.at);
    }
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(65535, 16);
    header.writeUInt32LE(101, 20); // LINKTYPE_RAW: IPv4 packets
    writeFileSync(file, Buffer.concat([header, ...packets]));
  }
}

function ipv4Tcp(source: number, destination: number, seq: number, ack: number, flags: number, data: Buffer) {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(source, 0);
  tcp.writeUInt16BE(destination, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(flags === 0x02 ? 0 : ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + data.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  Buffer.of(127, 0, 0, 1).copy(ip, 12);
  Buffer.of(127, 0, 0, 1).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  return Buffer.concat([ip, tcp, data]);
}

/**
 * Frames tshark reads as `protocol` on `port` in `file`, and the lines of those it finds
 * malformed or warns about (empty: the dissector found nothing wrong).
 */
export function dissect(
  file: string,
  port: number,
  protocol: string,
): { frames: string[]; problems: string[] } {
  const run = (filter: string) => {
    const r = spawnSync('tshark', ['-r', file, '-d', `tcp.port==${port},${protocol}`, '-Y', filter], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
    return r.stdout.split('\n').filter((l) => l.trim() !== '');
  };
  return {
    frames: run(protocol),
    problems: run(`_ws.malformed || (${protocol} && _ws.expert.severity >= warning)`),
  };
}
