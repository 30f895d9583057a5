// When a connector's status last changed and why its last bind failed: what /ready and the
// admin connector view show next to the live status.
import type { ConnectorState } from './types.ts';

export class StatusHistory {
  #status: ConnectorState['status'] | null = null;
  #since = Date.now();
  /** The reason the last bind went down or was refused; cleared once a bind is up again. */
  lastError: string | null = null;

  /** The time `status` began, as ISO 8601: now, when it differs from the status last seen. */
  since(status: ConnectorState['status']): string {
    if (status !== this.#status) {
      this.#status = status;
      this.#since = Date.now();
    }
    return new Date(this.#since).toISOString();
  }
}
