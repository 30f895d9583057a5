// A lean HTTP/1.1 keep-alive client for load generation: one request at a time per
// connection, the request bytes written in one go, the response read by its
// Content-Length. node:http's client costs more CPU than the server it measures, and on a
// 2-core machine the load generator shares the cores with the gateway.
import net from 'node:net';

export class LeanHttpConnection {
  readonly #socket: net.Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: ((status: number) => void) | null = null;
  #failed: ((err: Error) => void) | null = null;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    socket.on('error', (err) => this.#failed?.(err));
    socket.on('close', () => this.#failed?.(new Error('connection closed')));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<LeanHttpConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => resolve(new LeanHttpConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends `head` (request line and headers, without Content-Length) and a body; resolves with the status. */
  request(head: string, body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#failed = reject;
      this.#socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #parse(): void {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.#buffer.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.#buffer.length < end + 4 + length) return;
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    const status = Number(head.slice(9, 12));
    const done = this.#waiting;
    this.#waiting = null;
    this.#failed = null;
    done?.(status);
  }
}
