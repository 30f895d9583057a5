// Billing and account policies: prices, balances, usage, what an account may send.
export { type BalanceView, Billing, type BillingOptions } from './billing.ts';
export { billingRoutes } from './routes.ts';
