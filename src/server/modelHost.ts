import type { ModelSpec } from '../cli/loadModel.js';
import { BgeGgufError, type BgeGgufErrorCode } from '../errors.js';
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from './spawnWorker.js';
import { fromWire, type WireError } from './httpError.js';
import type { EmbedJob, EmbedResult, ServedModelInfo } from './types.js';

interface Pending {
  resolve: (result: EmbedResult) => void;
  reject: (error: unknown) => void;
}

/** The HTTP thread's handle on the model worker (src/server/modelWorker.ts). */
export class ModelHost {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly info: ServedModelInfo,
  ) {
    worker.on('message', (message: { type: string; id: number; result?: EmbedResult; error?: WireError }) => {
      const job = this.pending.get(message.id);
      if (!job) return;
      this.pending.delete(message.id);
      if (message.type === 'done') job.resolve(message.result!);
      else job.reject(fromWire(message.error!));
    });
    const fail = (error: Error) => {
      this.exited = error;
      for (const job of this.pending.values()) job.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new BgeGgufError('ENCODE_FAILED', `the model worker exited (code ${code})`)));
  }

  /** Starts the worker and waits until the model is loaded (a load error is thrown here). */
  static async start(spec: ModelSpec, name: string): Promise<ModelHost> {
    const worker = spawnWorker('modelWorker', spec);
    const info = await new Promise<Omit<ServedModelInfo, 'name'>>((resolve, reject) => {
      const onMessage = (message: { type: string; info?: Omit<ServedModelInfo, 'name'>; error?: WireError }) => {
        worker.off('error', reject);
        if (message.type === 'ready') resolve(message.info!);
        else reject(new BgeGgufError((message.error?.libraryCode as BgeGgufErrorCode) ?? 'MODEL_LOAD_FAILED', message.error?.message ?? 'the model worker failed to start'));
      };
      worker.once('message', onMessage);
      worker.once('error', reject);
    });
    return new ModelHost(worker, { ...info, name });
  }

  /** Runs a job; aborting the signal cancels it in the worker (the engine stops between batches). */
  run(job: EmbedJob, signal: AbortSignal): Promise<EmbedResult> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<EmbedResult>((resolve, reject) => {
      const onAbort = () => this.worker.postMessage({ type: 'cancel', id });
      signal.addEventListener('abort', onAbort, { once: true });
      const done = () => signal.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
      });
      this.worker.postMessage({ type: 'job', id, job });
    });
  }

  /** Frees the model and ends the worker. */
  async close(): Promise<void> {
    if (this.exited) return;
    const closed = new Promise((resolve) => {
      this.worker.on('message', (m: { type: string }) => m.type === 'closed' && resolve(undefined));
      this.worker.once('exit', resolve);
    });
    this.worker.postMessage({ type: 'close' });
    await closed; // the worker has cancelled its jobs, waited for the engine and freed the model
    await this.worker.terminate();
  }
}
