/** A minimal in-memory LangChain VectorStore (the `langchain` package's MemoryVectorStore is not a dependency). */
import { Document } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { VectorStore } from '@langchain/core/vectorstores';

export class InMemoryStore extends VectorStore {
  private rows: { vector: number[]; doc: Document }[] = [];

  constructor(embeddings: EmbeddingsInterface) {
    super(embeddings, {});
  }

  _vectorstoreType(): string {
    return 'test-memory';
  }

  async addVectors(vectors: number[][], documents: Document[]): Promise<void> {
    vectors.forEach((vector, i) => this.rows.push({ vector, doc: documents[i] }));
  }

  async addDocuments(documents: Document[]): Promise<void> {
    await this.addVectors(await this.embeddings.embedDocuments(documents.map((d) => d.pageContent)), documents);
  }

  async similaritySearchVectorWithScore(query: number[], k: number): Promise<[Document, number][]> {
    const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0) / (Math.hypot(...a) * Math.hypot(...b));
    return this.rows
      .map(({ vector, doc }) => [doc, cosine(query, vector)] as [Document, number])
      .sort((x, y) => y[1] - x[1])
      .slice(0, k);
  }
}
