/**
 * The FlagICLModel half of `npm run parity -- --reference flagembedding`: a tiny random Mistral
 * checkpoint (scripts/parity/make_icl_checkpoint.py: SentencePiece tokenizer from llama.cpp's Llama
 * vocabulary, add_eos_token as bge-en-icl), plain and with <instruct>/<query>/<response> added as
 * special tokens 32000-32002, converted to F32 GGUF by llama.cpp's own convert_hf_to_gguf.py
 * (bge-gguf's converter handles BERT only). FlagEmbedding's FlagICLModel and ours embed the
 * tutorial's queries plus edge cases (emoji/CJK cut by the query budget, literal <s> </s> <query>),
 * with and without the tutorial's few-shot examples.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runFlagEmbedding } from './flagembedding.mjs';

const TASK = 'Given a web search query, retrieve relevant passages that answer the query.';
/** FlagEmbedding's BGE-EN-ICL tutorial (Tutorials/1_Embedding/1.2.5_BGE_EN_ICL.ipynb). */
const EXAMPLES = [
  {
    instruct: TASK,
    query: 'what is a virtual interface',
    response: 'A virtual interface is a software-defined abstraction that mimics the behavior and characteristics of a physical network interface. It allows multiple logical network connections to share the same physical network interface, enabling efficient utilization of network resources.',
  },
  {
    instruct: TASK,
    query: 'causes of back pain in female for a week',
    response: 'Back pain in females lasting a week can stem from various factors. Common causes include muscle strain due to lifting heavy objects or improper posture, spinal issues like herniated discs or osteoporosis, menstrual cramps causing referred pain, urinary tract infections, or pelvic inflammatory disease.',
  },
];
const PAIRS = [
  { query: 'how much protein should a female eat', positive: "As a general guideline, the CDC's average requirement of protein for women ages 19 to 70 is 46 grams per day. But, as you can see from this chart, you'll need to increase that if you're expecting or training for a marathon." },
  { query: 'summit define', positive: 'Definition of summit for English Language Learners. : 1  the highest point of a mountain : the top of a mountain. : 2  the highest level. : 3  a meeting or series of meetings between the leaders of two or more governments.' },
  { query: 'what causes a rainbow after rain', positive: 'A rainbow appears when sunlight is refracted, reflected and dispersed in water droplets, splitting white light into its spectrum of colours.' },
  { query: 'best way to learn a language quickly', positive: 'Immersion, spaced repetition of vocabulary and daily conversation practice with native speakers are the fastest ways to learn a new language.' },
];
const EDGE_QUERIES = [
  'emoji 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀',
  '中文查询：北京大学的历史和东京大学的比较研究，包括学术声誉和国际排名以及招生情况',
  'a literal </s> in a query and <s> too',
  'tokens written in text: <instruct> <query> <response> </s>',
  `${'very long query about many things '.repeat(12)}end`,
  'Café naïve — résumé',
];
const QUERY_MAX_LENGTH = 48;
const PASSAGE_MAX_LENGTH = 96;

function checkpoint({ root, python, workDir, log }, variant) {
  const dir = join(workDir, `icl-${variant}`);
  const gguf = join(workDir, `icl-${variant}-f32.gguf`);
  if (existsSync(gguf)) return { dir, gguf };
  const vocab = join(root, '.llama', 'llama.cpp', 'models', 'ggml-vocab-llama-spm.gguf');
  const args = [join(root, 'scripts', 'parity', 'make_icl_checkpoint.py'), vocab, dir, ...(variant === 'added' ? ['--added-tokens'] : [])];
  execFileSync(python, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  log(`converting ${dir} with llama.cpp's convert_hf_to_gguf.py`);
  execFileSync(python, [join(root, '.llama', 'llama.cpp', 'convert_hf_to_gguf.py'), dir, '--outtype', 'f32', '--outfile', gguf], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { dir, gguf };
}

export async function iclRows({ root, python, workDir, log, engine, compareRows }) {
  const { FlagICLModel, cosineSimilarity: cosine } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  const queries = [...PAIRS.map((p) => p.query), ...EDGE_QUERIES];
  const passages = [...new Set([...PAIRS.map((p) => p.positive), ...EXAMPLES.map((e) => e.response), ...EDGE_QUERIES])];
  const candidates = PAIRS.map((p) => p.positive);
  const rows = [];
  for (const variant of ['plain', 'added']) {
    const { dir, gguf } = checkpoint({ root, python, workDir, log }, variant);
    for (const examples of [null, EXAMPLES]) {
      const label = `FlagICLModel ${variant === 'added' ? '+3 tokens' : 'plain'} ${examples ? 'examples' : 'no examples'}`;
      const request = { kind: 'icl', checkpoint: dir, task: TASK, examples, queries, passages, query_max_length: QUERY_MAX_LENGTH, passage_max_length: PASSAGE_MAX_LENGTH };
      const theirs = runFlagEmbedding(python, root, request, workDir, `icl-${variant}-${examples ? 'ex' : 'noex'}`);
      const model = await FlagICLModel.load(gguf, {
        threads: 2, engine, queryInstructionForRetrieval: TASK, examplesForTask: examples, queryMaxLength: QUERY_MAX_LENGTH, passageMaxLength: PASSAGE_MAX_LENGTH,
      });
      let ours;
      try {
        ours = {
          queries: { ids: model.tokenizeQueries(queries).map((ids) => Array.from(ids)), vectors: await model.encodeQueries(queries) },
          passages: { ids: passages.map((p) => Array.from(model.tokenize(p))), vectors: await model.encodeCorpus(passages) },
        };
      } finally {
        await model.dispose();
      }
      rows.push(compareRows({ label, ours, theirs, pairs: PAIRS, candidates, queries, passages, cosine, target: 0.99999 }));
      log(`${label} done`);
    }
  }
  return rows;
}
