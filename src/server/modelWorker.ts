/**
 * The model's own thread: loads the model and runs embedding jobs, so tokenizing a megabyte of text
 * or serializing thousands of vectors never blocks the HTTP thread (/health stays fast).
 * Messages in: {type: 'job', id, job} | {type: 'cancel', id} | {type: 'close'}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadModel, type AnyModel, type ModelSpec } from '../cli/loadModel.js';
import { BgeGgufError } from '../errors.js';
import { runEmbedJob } from './embedJob.js';
import { toWire } from './httpError.js';
import type { EmbedJob } from './types.js';

const port = parentPort!;
const running = new Map<number, AbortController>();
let model: AnyModel;

async function main(): Promise<void> {
  try {
    model = await loadModel(workerData as ModelSpec);
  } catch (error) {
    port.postMessage({ type: 'failed', error: toWire(error) });
    return;
  }
  const info = {
    dimension: model.dimension,
    engine: model.engineKind,
    causal: model.modelInfo.causal,
    vocabSize: model.modelInfo.vocabSize,
  };
  port.on('message', (message: { type: string; id: number; job: EmbedJob }) => {
    if (message.type === 'cancel') running.get(message.id)?.abort(new BgeGgufError('CANCELLED', 'the client went away'));
    else if (message.type === 'job') void run(message.id, message.job);
    else if (message.type === 'close') void model.dispose().then(() => process.exit(0));
  });
  port.postMessage({ type: 'ready', info });
}

async function run(id: number, job: EmbedJob): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const result = await runEmbedJob(model, job, controller.signal);
    port.postMessage({ type: 'done', id, result });
  } catch (error) {
    port.postMessage({ type: 'error', id, error: toWire(error) });
  } finally {
    running.delete(id);
  }
}

void main();
