// The interceptor of the scaling bench's interceptor row: it changes every message (a tag),
// so the gateway pays the worker round trip and builds the message again.
export default function tagEach(message) {
  return { tags: [...message.tags, 'bench'] };
}
