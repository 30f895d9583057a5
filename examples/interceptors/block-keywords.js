// Refuses messages that hold a blocked word: REST answers 403 {"error": {"code":
// "blocked_content"}}, SMPP ESME_RSUBMITFAIL. Words are matched whole, in any case.
//
//   interceptor: { module: ./examples/interceptors/block-keywords.js, onError: refuse }
const blocked = ['casino', 'lottery', 'bitcoin'];
const pattern = new RegExp(`\\b(${blocked.join('|')})\\b`, 'iu');

export default function blockKeywords(message) {
  if (message.text !== null && pattern.test(message.text)) return { refuse: 'blocked_content' };
  return undefined;
}
