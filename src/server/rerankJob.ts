import type { FlagReranker } from '../api/FlagReranker.js';
import { tooManyTokens } from './embedJob.js';
import type { EmbedResult, RerankJob } from './types.js';

/**
 * Runs one rerank request on the reranker (inside the worker): tokenizes the pairs, refuses a request
 * over its token limit before any decode, scores, sorts and serializes the results array.
 */
export async function runRerankJob(reranker: FlagReranker, job: RerankJob, signal: AbortSignal): Promise<EmbedResult> {
  const ids = await reranker.pairIds(job.documents.map((d): [string, string] => [job.query, d]));
  const counted = ids.reduce((sum, pair) => sum + pair.length, 0);
  if (counted > job.maxTokens) throw tooManyTokens(counted, job.maxTokens);
  if (signal.aborted) throw signal.reason;
  const { results, tokens } = await reranker.rankPairIds(ids, job.documents, { topN: job.topN, normalize: job.normalize, signal });
  const items = results.map((r) =>
    job.returnDocuments ? { index: r.index, relevance_score: r.score, document: { text: r.document } } : { index: r.index, relevance_score: r.score },
  );
  return { dataJson: JSON.stringify(items), count: job.documents.length, tokens };
}
