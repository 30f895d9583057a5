// An SMSC that answers every bind and submit_sm at once, in its own process so the load
// generator and the sink each have a core. `node bench/smpp-sink.ts smsgw|node-smpp`
// prints {"port": N} once listening.
import smpp from 'smpp';
import { SmppServer } from '../src/smpp/index.ts';

const impl = process.argv[2] ?? 'smsgw';

if (impl === 'smsgw') {
  const server = new SmppServer({ authenticate: () => ({ status: 0 }), window: 1024, enquireLinkMs: 0 });
  let n = 0;
  server.on('request', (pdu, bound) => bound.session.respond(pdu, 0, { messageId: (++n).toString(16) }));
  const { port } = await server.listen(0);
  process.stdout.write(`${JSON.stringify({ port })}\n`);
} else if (impl === 'node-smpp') {
  let n = 0;
  const server = smpp.createServer((session: NodeSmppSession) => {
    session.on('bind_transceiver', (pdu) => session.send(pdu.response()));
    session.on('submit_sm', (pdu) => session.send(pdu.response({ message_id: (++n).toString(16) })));
    session.on('enquire_link', (pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
} else {
  process.stderr.write(`unknown sink ${impl}\n`);
  process.exit(2);
}

interface NodeSmppPdu {
  response(fields?: Record<string, unknown>): unknown;
}
interface NodeSmppSession {
  on(event: string, handler: (pdu: NodeSmppPdu) => void): void;
  send(pdu: unknown): void;
  close(): void;
}
