/**
 * The model's own thread: loads the model and runs embedding jobs, so tokenizing a megabyte of text
 * or serializing thousands of vectors never blocks the HTTP thread (/health stays fast).
 * Small jobs (a few short texts each, the usual API traffic) wait while the engine is busy and are then
 * embedded together in one encode call: many requests share each llama.cpp decode.
 * A reranker GGUF is served the same way: op 'rerank' jobs, each scored on its own.
 * Messages in: {type: 'job', id, job} | {type: 'cancel', id} | {type: 'close'}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadServedModel, type ModelSpec, type ServedModel } from '../cli/loadModel.js';
import { BgeGgufError } from '../errors.js';
import { embedOutputs, type EmbedModel } from '../api/embedOutputs.js';
import { isSmallJob, runEmbedJob, serializeResult, tooManyTokens } from './embedJob.js';
import { toWire } from './httpError.js';
import { ApiError } from './httpError.js';
import { runRerankJob } from './rerankJob.js';
import type { EmbedJob, EmbedResult, ServerJob } from './types.js';

const port = parentPort!;
/** Merged encode calls running at once (the engine runs two decodes side by side on encoders). */
const MERGED_RUNNING = 2;
/** Most texts in one merged call. */
const MERGED_TEXTS = 256;

interface Entry {
  id: number;
  job: ServerJob;
  controller: AbortController;
  answered: boolean;
}

const entries = new Map<number, Entry>();
/** Encode calls under way; closing waits for them, since freeing the model under a running decode would crash. */
const calls = new Set<Promise<unknown>>();
const track = (call: Promise<unknown>) => {
  calls.add(call);
  void call.finally(() => calls.delete(call));
};
/** Small embed jobs waiting to be merged. */
type SmallEntry = Entry & { job: EmbedJob & { texts: string[] } };
const pending: SmallEntry[] = [];
let mergedRunning = 0;
let served: ServedModel;

const answer = (entry: Entry, outcome: { result: EmbedResult } | { error: unknown }) => {
  if (entry.answered) return;
  entry.answered = true;
  entries.delete(entry.id);
  port.postMessage('result' in outcome ? { type: 'done', id: entry.id, result: outcome.result } : { type: 'error', id: entry.id, error: toWire(outcome.error) });
};

async function main(): Promise<void> {
  try {
    served = await loadServedModel(workerData as ModelSpec);
  } catch (error) {
    port.postMessage({ type: 'failed', error: toWire(error) });
    return;
  }
  port.on('message', (message: { type: string; id: number; job: ServerJob }) => {
    if (message.type === 'job') accept(message.id, message.job);
    else if (message.type === 'cancel') cancel(message.id);
    else if (message.type === 'close') void close();
  });
  const info =
    served.task === 'embed'
      ? { task: 'embed', dimension: served.model.dimension, engine: served.model.engineKind, causal: served.model.modelInfo.causal, vocabSize: served.model.modelInfo.vocabSize }
      : { task: 'rerank', dimension: 0, engine: served.model.engineKind, causal: false, vocabSize: 0 };
  port.postMessage({ type: 'ready', info });
}

function accept(id: number, job: ServerJob): void {
  const entry: Entry = { id, job, controller: new AbortController(), answered: false };
  entries.set(id, entry);
  if (served.task === 'embed' && isSmallJob(job)) {
    pending.push(entry as SmallEntry);
    pump();
    return;
  }
  track(
    run(job, entry.controller.signal).then(
      (result) => answer(entry, { result }),
      (error: unknown) => answer(entry, { error }),
    ),
  );
}

/** A job of the kind the loaded model does; the other kind is a 404 naming what the model is. */
function run(job: ServerJob, signal: AbortSignal): Promise<EmbedResult> {
  if (job.op === 'rerank' && served.task === 'rerank') return runRerankJob(served.model, job, signal);
  if (job.op === 'embed' && served.task === 'embed') return runEmbedJob(served.model, job, signal);
  return Promise.reject(new ApiError(404, `this server's model is ${served.task === 'embed' ? 'an embedder' : 'a reranker'}; it does not do ${job.op} requests`, 'wrong_model_task'));
}

function cancel(id: number): void {
  const entry = entries.get(id);
  if (!entry) return;
  const error = new BgeGgufError('CANCELLED', 'the client went away');
  const waiting = pending.indexOf(entry as SmallEntry);
  if (waiting !== -1) pending.splice(waiting, 1);
  entry.controller.abort(error);
  answer(entry, { error });
}

/** Cancels what is left, waits for the engine to stop, frees the model, then tells the host. */
async function close(): Promise<void> {
  for (const id of [...entries.keys()]) cancel(id);
  while (calls.size > 0) await Promise.allSettled([...calls]);
  await served.model.dispose();
  port.postMessage({ type: 'closed' });
}

/** Starts merged calls while there is room: each takes the waiting small jobs of one kind, oldest first. */
function pump(): void {
  while (mergedRunning < MERGED_RUNNING && pending.length > 0) {
    const kind = pending[0].job.kind;
    const group: SmallEntry[] = [];
    let texts = 0;
    for (let i = 0; i < pending.length && texts < MERGED_TEXTS; ) {
      if (pending[i].job.kind === kind) {
        texts += pending[i].job.texts.length;
        group.push(...pending.splice(i, 1));
      } else i++;
    }
    mergedRunning++;
    track(
      runMerged(group).finally(() => {
        mergedRunning--;
        pump();
      }),
    );
  }
}

async function runMerged(group: SmallEntry[]): Promise<void> {
  const model = served.model as EmbedModel; // small jobs are only merged on an embedder
  const shared = new AbortController();
  for (const entry of group) {
    entry.controller.signal.addEventListener('abort', () => {
      if (group.every((e) => e.controller.signal.aborted)) shared.abort(entry.controller.signal.reason);
    });
  }
  const texts = group.flatMap((e) => e.job.texts!);
  let counts: readonly number[] = [];
  const tokensOf = (k: number) => {
    const start = group.slice(0, k).reduce((sum, e) => sum + e.job.texts!.length, 0);
    return counts.slice(start, start + group[k].job.texts!.length).reduce((sum, c) => sum + c, 0);
  };
  // once tokenized: requests over their token limit are answered at once and no longer hold the call
  const onProgress = (p: { done: number; tokenCounts: readonly number[] }) => {
    if (p.done !== 0) return;
    counts = p.tokenCounts;
    group.forEach((entry, k) => {
      const tokens = tokensOf(k);
      if (tokens > entry.job.maxTokens) {
        answer(entry, { error: tooManyTokens(tokens, entry.job.maxTokens) });
        entry.controller.abort(tooManyTokens(tokens, entry.job.maxTokens));
      }
    });
  };
  try {
    const options = { signal: shared.signal, onProgress };
    const vectors = (await embedOutputs(model, texts, { kind: group[0].job.kind, ...options })).dense;
    let offset = 0;
    group.forEach((entry, k) => {
      const n = entry.job.texts!.length;
      if (!entry.answered) answer(entry, { result: serializeResult(entry.job, { dense: vectors.slice(offset, offset + n) }, tokensOf(k)) });
      offset += n;
    });
  } catch (error) {
    for (const entry of group) answer(entry, { error });
  }
}

void main();
