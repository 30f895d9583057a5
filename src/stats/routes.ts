// The message-count series over REST: an admin's (any account, connector) and an account's own.
import type { HttpPlugin } from '../api/index.ts';
import { GatewayError } from '../core/index.ts';
import { type StatsSeries, seriesQueryOf } from './series.ts';

type Query = Record<string, string | undefined>;

export function statsRoutes(series: StatsSeries): { account: HttpPlugin; admin: HttpPlugin } {
  return {
    async account(app) {
      app.get('/v1/stats/series', async (req) => {
        const query = seriesQueryOf(req.query as Query, Date.now());
        // The queue is the whole gateway's: an admin's to see, not an account's.
        if (query.metric === 'queued')
          throw new GatewayError('invalid_metric', 'the queue depth is shown to admins only', 'metric');
        return series.series({ ...query, accountId: req.account.id });
      });
    },
    async admin(app) {
      app.get('/v1/admin/stats/series', async (req) => {
        const query = req.query as Query;
        return series.series({
          ...seriesQueryOf(query, Date.now()),
          ...(query['account'] !== undefined ? { accountId: query['account'] } : {}),
          ...(query['connector'] !== undefined ? { connectorId: query['connector'] } : {}),
        });
      });
    },
  };
}
