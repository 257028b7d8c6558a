// The official OpenAI client against bge-gguf's server. Start the server first:
//   npx bge-gguf serve --port 8080
// then: node examples/server-openai.mjs  (BGE_GGUF_URL overrides http://127.0.0.1:8080)
import OpenAI from 'openai';

const baseURL = `${process.env.BGE_GGUF_URL ?? 'http://127.0.0.1:8080'}/v1`;
const client = new OpenAI({ baseURL, apiKey: process.env.BGE_GGUF_API_KEY ?? 'unused' }); // the key matters only with serve --api-key

const { data, usage } = await client.embeddings.create({
  model: 'bge-small-en-v1.5', // echoed back; the server embeds with the model it loaded
  input: ['The cat sat on the mat.', 'A feline rested on a rug.'],
  dimensions: 128, // optional: the first 128 values, renormalized
});
const [a, b] = data.map((d) => d.embedding);
console.log(`${data.length} vectors of ${a.length} dimensions, ${usage.prompt_tokens} tokens`);
console.log('cosine similarity:', a.reduce((sum, x, i) => sum + x * b[i], 0).toFixed(4));
