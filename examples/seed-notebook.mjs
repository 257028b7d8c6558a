// FlagEmbedding's seed notebook in Node: embed, compare, query with an instruction.
// Runs offline with the embedded model; for BGE itself use e.g.
// FlagAutoModel.fromFinetuned('bge-small-en-v1.5') (downloads the GGUF once) instead.
import { FlagModel, similarityMatrix } from 'bge-gguf';

const model = await FlagModel.load(undefined, {
  queryInstructionForRetrieval: 'Represent this sentence for searching relevant passages: ',
});
const sentences1 = ['embedding', 'I love machine learning and nlp'];
const sentences2 = ['embedding', 'I love machine learning and nlp'];
const embeddings1 = await model.encode(sentences1); // Float32Array[], unit length
const embeddings2 = await model.encode(sentences2);
console.log(similarityMatrix(embeddings1, embeddings2)); // embeddings_1 @ embeddings_2.T

const queries = ['what is nlp?'];
const passages = ['Natural language processing lets computers understand text.', 'The weather is sunny today.'];
const q = await model.encodeQueries(queries); // the instruction is put in front of each query
const p = await model.encodeCorpus(passages);
console.log(similarityMatrix(q, p));
await model.dispose();
