// LangChain.js with bge-gguf in-process (npm install @langchain/core): BgeGgufEmbeddings is an Embeddings
// class, so any LangChain vector store or retriever can use it.
import { BgeGgufEmbeddings } from 'bge-gguf/langchain';

const embeddings = new BgeGgufEmbeddings(); // or { model: 'bge-small-en-v1.5' }, or { model: aLoadedFlagModel }
const docs = ['LangChain chains LLM calls together.', 'BGE models turn text into vectors.', 'Paris is the capital of France.'];
const vectors = await embeddings.embedDocuments(docs);
const query = await embeddings.embedQuery('Which library makes text embeddings?');
const scores = vectors.map((v) => v.reduce((sum, x, i) => sum + x * query[i], 0));
const best = scores.indexOf(Math.max(...scores));
console.log(`best match: ${docs[best]} (${scores[best].toFixed(3)})`);
await embeddings.dispose();
