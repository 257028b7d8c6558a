/**
 * `bge-gguf/langchain`: BGE embeddings for LangChain.js, in-process (no server). Needs the optional
 * peer dependency @langchain/core.
 *
 *   const embeddings = new BgeGgufEmbeddings({ model: 'bge-small-en-v1.5' }); // or a FlagModel you loaded
 *   const store = await MemoryVectorStore.fromTexts(texts, metadata, embeddings);
 */
import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings';
import { FlagAutoModel, type AutoModelOptions } from '../api/FlagAutoModel.js';
import { FlagModel } from '../api/FlagModel.js';
import { embedOutputs, type EmbedModel as Model } from '../api/embedOutputs.js';

export interface BgeGgufEmbeddingsParams extends EmbeddingsParams {
  /** A loaded model, or what to load: a .gguf path, an hf: URI or a registry name (default: the embedded model). */
  model?: Model | string;
  /** Options for loading when `model` is a name or absent. */
  modelOptions?: AutoModelOptions;
}

/** LangChain Embeddings over a bge-gguf model: documents as passages, queries with the model's query instruction. */
export class BgeGgufEmbeddings extends Embeddings {
  private loading: Promise<Model> | null = null;
  private readonly given: Model | string | undefined;
  private readonly modelOptions: AutoModelOptions;

  constructor(params: BgeGgufEmbeddingsParams = {}) {
    super(params);
    this.given = params.model;
    this.modelOptions = params.modelOptions ?? {};
  }

  /** The model, loaded on first use. */
  model(): Promise<Model> {
    this.loading ??= typeof this.given === 'object' ? Promise.resolve(this.given) : this.given ? FlagAutoModel.fromFinetuned(this.given, this.modelOptions) : FlagModel.load(undefined, this.modelOptions);
    return this.loading;
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    if (documents.length === 0) return [];
    const model = await this.model();
    const { dense } = await this.caller.call(() => embedOutputs(model, documents, { kind: 'corpus' }));
    return dense.map((v) => Array.from(v));
  }

  async embedQuery(query: string): Promise<number[]> {
    const model = await this.model();
    // BGE-M3 too: its dense vectors (what LangChain's vector stores take)
    const { dense } = await this.caller.call(() => embedOutputs(model, [query], { kind: 'queries' }));
    return Array.from(dense[0]);
  }

  /** Frees a model this adapter loaded itself (one passed in stays the caller's to dispose). */
  async dispose(): Promise<void> {
    if (typeof this.given !== 'object' && this.loading) await (await this.loading).dispose();
    this.loading = null;
  }
}
