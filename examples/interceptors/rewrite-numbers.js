// Rewrites numbers: messages to numbers that moved go to their new number, and a sender
// the destination's networks do not take (an alphanumeric sender to the US or Canada)
// is replaced by the company's long code. A changed `to` is routed by the rules anew.
//
//   interceptor: { module: ./examples/interceptors/rewrite-numbers.js, timeoutMs: 20 }
const moved = new Map([['+447700900001', '+447700900999']]);
const longCode = '+15550100';

export default function rewriteNumbers(message) {
  const change = {};
  const to = moved.get(message.to);
  if (to) change.to = to;
  if ((to ?? message.to).startsWith('+1') && !/^\+?\d+$/u.test(message.from)) change.from = longCode;
  return Object.keys(change).length > 0 ? change : undefined;
}
