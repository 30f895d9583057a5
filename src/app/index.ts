export { defaultConfig, type GatewayApp, splitListen, type StartOptions, startGateway } from './gateway-app.ts';
