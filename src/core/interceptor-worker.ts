// The worker thread that runs interceptor modules (see interceptors.ts). It is given a
// message's fields and nothing else: no config, and an empty environment, so a module
// cannot read the gateway's secrets. Each module is imported once, on its first call.
import { parentPort } from 'node:worker_threads';

type Interceptor = (message: unknown) => unknown;

export type WorkerRequest = { id: number; module: string; message: object | null } | { ping: number };

export type WorkerAnswer =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { pong: number };

const modules = new Map<string, Promise<Interceptor>>();

function load(url: string): Promise<Interceptor> {
  let loaded = modules.get(url);
  if (!loaded) {
    loaded = import(url).then((mod: { default?: unknown }) => {
      if (typeof mod.default !== 'function') throw new Error('the module has no default export function');
      return mod.default as Interceptor;
    });
    modules.set(url, loaded);
  }
  return loaded;
}

const port = parentPort!;
port.on('message', async (request: WorkerRequest) => {
  if ('ping' in request) {
    port.postMessage({ pong: request.ping } satisfies WorkerAnswer);
    return;
  }
  try {
    const run = await load(request.module);
    // A null message only loads the module (start-up and `config check`).
    const result = request.message === null ? null : await run(request.message);
    port.postMessage({ id: request.id, ok: true, result: result ?? null } satisfies WorkerAnswer);
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    port.postMessage({ id: request.id, ok: false, error } satisfies WorkerAnswer);
  }
});
