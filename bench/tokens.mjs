// Token counts with the models' own tokenizer (llama.cpp's WordPiece via node-llama-cpp, vocab only).
// Every bench model shares the bge vocab, so one count serves all of them.
import { getLlama } from 'node-llama-cpp';

/** Returns a function text -> token count including [CLS] and [SEP], and a dispose(). */
export async function openTokenCounter(modelPath) {
  const llama = await getLlama({ gpu: false, logLevel: 'error' });
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  const special = (model.tokens.bos != null ? 1 : 0) + (model.tokens.eos != null || model.tokens.sep != null ? 1 : 0);
  return {
    count: (text) => model.tokenize(text).length + special,
    special,
    async dispose() {
      await model.dispose();
      await llama.dispose();
    },
  };
}
