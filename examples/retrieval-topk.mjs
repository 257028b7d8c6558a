// Retrieval: embed a small corpus once, then find the k best passages for each query.
import { FlagModel, topK } from 'bge-gguf';

const corpus = [
  'The Eiffel Tower is in Paris.',
  'Photosynthesis turns sunlight into chemical energy.',
  'Node.js runs JavaScript outside the browser.',
  'The Great Wall of China is visible from low orbit only under rare conditions.',
  'GGUF is the file format llama.cpp loads models from.',
];
const model = await FlagModel.load(); // the embedded model; pass a .gguf path or use FlagAutoModel for BGE
const passages = await model.encodeCorpus(corpus);
for (const query of ['how do plants make energy?', 'what file format does llama.cpp use?']) {
  const [vector] = await model.encodeQueries([query]);
  const hits = topK(vector, passages, 2); // [{ index, score }], best first
  console.log(query);
  for (const { index, score } of hits) console.log(`  ${score.toFixed(3)}  ${corpus[index]}`);
}
await model.dispose();
