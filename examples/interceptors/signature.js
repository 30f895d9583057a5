// Adds the company's signature to every message the rule takes (unless it is there
// already) and tags it, so later rules and reports can tell it was signed.
//
//   routes:
//     mt:
//       - match: { account: [acme] }
//         connectors: [carrier-a]
//         interceptor: { module: ./examples/interceptors/signature.js }
const signature = ' -- ACME Ltd';

export default function sign(message) {
  if (message.text === null || message.text.endsWith(signature)) return undefined;
  return { text: `${message.text}${signature}`, tags: [...message.tags, 'signed'] };
}
