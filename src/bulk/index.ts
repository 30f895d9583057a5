// Bulk messaging: batches from a template and a recipient list (JSON or streamed CSV),
// scheduled, paced, quiet-hour aware, paused, resumed and canceled as a whole.
export {
  Batches,
  type BatchesOptions,
  type BatchSpec,
  type BatchStatus,
  templateVariables,
} from './batches.ts';
export { csvRecipients, type RecipientRow } from './csv.ts';
export { NumberSet, numberKey } from './number-set.ts';
export { parseQuietHours, type QuietHours, QuietWindow, zoneOfCountry } from './quiet-hours.ts';
export { RateMeter } from './rate-meter.ts';
export { batchRoutes } from './routes.ts';
