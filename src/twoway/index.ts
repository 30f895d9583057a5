// Two-way messaging: inbound rules' URL and reply targets, opt-out words, conversations.
export { type Conversation, Conversations, conversationId } from './conversations.ts';
export { expandKannelEscapes, forwardInbound } from './forward.ts';
export {
  conversationRoutes,
  followMoRoutes,
  moAdminRoutes,
  moRoutesInForce,
  moRoutesSetByAdmin,
} from './http.ts';
export { type OptOutAction, OptOutWords } from './optout.ts';
export { inboundView, TwoWay, type TwoWayOptions } from './service.ts';
