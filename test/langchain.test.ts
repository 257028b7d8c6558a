import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document } from '@langchain/core/documents';
import { Embeddings } from '@langchain/core/embeddings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/api/FlagModel.js';
import { BgeGgufEmbeddings } from '../src/langchain/index.js';
import { repoRoot } from './support/fixtures.js';
import { InMemoryStore } from './support/memoryStore.js';

const passages = [
  'The Eiffel Tower is a wrought-iron lattice tower in Paris, France.',
  'Photosynthesis converts light energy into chemical energy in plants.',
  'The Great Wall of China stretches thousands of kilometres across northern China.',
  'Python is a popular programming language for data science.',
];

describe('bge-gguf/langchain', () => {
  let model: FlagModel;
  beforeAll(async () => {
    model = await FlagModel.load(undefined, { queryInstructionForRetrieval: 'Represent this sentence for searching relevant passages: ' });
  });
  afterAll(async () => model?.dispose());

  it('is exported as bge-gguf/langchain with @langchain/core as an optional peer dependency', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.exports['./langchain']).toBeDefined();
    expect(pkg.peerDependencies['@langchain/core']).toBeDefined();
    expect(pkg.peerDependenciesMeta['@langchain/core'].optional).toBe(true);
  });

  it('embeds documents as passages and queries with the query instruction, as the library does', async () => {
    const embeddings = new BgeGgufEmbeddings({ model });
    expect(embeddings).toBeInstanceOf(Embeddings);
    const docs = await embeddings.embedDocuments(passages);
    const direct = await model.encodeCorpus(passages);
    docs.forEach((d, i) => expect(d).toEqual(Array.from(direct[i])));
    const query = await embeddings.embedQuery('where is the eiffel tower');
    expect(query).toEqual(Array.from(await model.encodeQueries('where is the eiffel tower')));
    expect(query).not.toEqual(Array.from(await model.encodeCorpus('where is the eiffel tower')));
  });

  it('finds the right passage through a LangChain vector store and retriever', async () => {
    const embeddings = new BgeGgufEmbeddings(); // loads the embedded model itself
    try {
      const store = new InMemoryStore(embeddings);
      await store.addDocuments(passages.map((pageContent, id) => new Document({ pageContent, metadata: { id } })));
      const [best] = await store.similaritySearch('Which plant process turns sunlight into energy?', 1);
      expect(best.metadata.id).toBe(1);
      const retrieved = await store.asRetriever({ k: 1 }).invoke('famous landmark in Paris');
      expect(retrieved[0].metadata.id).toBe(0);
    } finally {
      await embeddings.dispose();
    }
  });
});
