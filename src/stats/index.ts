// Message counts over time (the console's charts) and the gateway's health at a glance.

export { type BindEvent, ConnectorHistory, type HealthRoutesOptions, healthRoutes } from './health.ts';
export { statsRoutes } from './routes.ts';
export {
  type Series,
  type SeriesMetric,
  type SeriesQuery,
  StatsSeries,
  seriesMetrics,
  seriesQueryOf,
  seriesRetentionSeconds,
} from './series.ts';
