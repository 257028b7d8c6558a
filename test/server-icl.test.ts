import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagICLModel } from '../src/api/FlagICLModel.js';
import { GgmlType } from '../src/gguf/types.js';
import { writeMistralFixture } from './support/mistralFixture.js';
import { startServer, type ServerProcess } from './support/serverProcess.js';

describe('bge-gguf serve with an ICL (decoder) model', () => {
  let server: ServerProcess;
  let model: FlagICLModel;
  const texts = ['how tall is the eiffel tower', 'the eiffel tower is 330 metres tall'];

  beforeAll(async () => {
    const { path } = await writeMistralFixture('server-icl-mistral.gguf', { type: GgmlType.F32 });
    [server, model] = await Promise.all([startServer(['--model', path]), FlagICLModel.load(path)]);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), model?.dispose()]);
  });

  it('embeds passages (default) and queries (input_type) as FlagICLModel does, and token ids with <s> … </s>', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${server.base}/v1` });
    const passages = await client.embeddings.create({ model: 'icl', input: texts });
    const direct = await model.encodeCorpus(texts);
    passages.data.forEach((d, i) => expect(d.embedding).toEqual(Array.from(direct[i])));
    const res = await fetch(`${server.base}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: texts, input_type: 'query', encoding_format: 'float' }),
    });
    const queries = (await res.json()) as { data: { embedding: number[] }[]; usage: { prompt_tokens: number } };
    const directQueries = await model.encodeQueries(texts);
    queries.data.forEach((d, i) => expect(d.embedding).toEqual(Array.from(directQueries[i])));
    expect(queries.usage.prompt_tokens).toBe(model.tokenizeQueries(texts).reduce((sum, ids) => sum + ids.length, 0));
    const ids = texts.map((t) => Array.from(model.tokenize(t)));
    const fromIds = await client.embeddings.create({ model: 'icl', input: ids.map((x) => x.slice(1, -1)) });
    fromIds.data.forEach((d, i) => expect(d.embedding).toEqual(Array.from(direct[i])));
  });
});
