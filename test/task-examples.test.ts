/**
 * Few-shot examples from the package's data/icl-examples (FlagEmbedding's, MIT). Expected rows were read with Python's csv
 * module (the files' reference reader), including the files' irregular headers and quoting.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { listExampleTasks, loadTaskExamples, parseCsv } from '../src/prompt/taskExamples.js';
import { sharedDataDir } from './support/fixtures.js';

const dataDir = sharedDataDir;
const instructions = JSON.parse(readFileSync(join(dataDir, 'instructions.json'), 'utf8')) as Record<string, string>;

describe('loadTaskExamples on the shared data', () => {
  it('reads query,pos rows with the task instruction as every example instruct', () => {
    const { instruction, examples } = loadTaskExamples('MSMARCO', { dataDir });
    expect(instruction).toBe('Given a web search query, retrieve relevant passages that answer the query.');
    expect(examples).toHaveLength(3);
    expect(examples[0].query).toBe('what is a pms color');
    expect(examples[0].response.startsWith('PMS is a solid-color matching system, used primarily for spe')).toBe(true);
    expect(examples.every((e) => e.instruct === instructions.MSMARCO)).toBe(true);
  });

  it('maps sent1,sent2 and text,label(_text) columns to query and response', () => {
    const sts = loadTaskExamples('STS12', { dataDir }).examples;
    expect(sts[0]).toEqual({ instruct: instructions.STS12, query: 'A man is dancing on the ceiling.', response: 'A man is dancing on the ceiling of a room.' });
    const emotion = loadTaskExamples('EmotionClassification', { dataDir }).examples; // CRLF line ends
    expect(emotion).toHaveLength(6);
    expect(emotion[0].response).toBe('sadness');
  });

  it('tolerates headers with stray whitespace and skips blank rows', () => {
    const mtop = loadTaskExamples('MTOPIntentClassification', { dataDir }).examples; // header "text,label\t"
    expect(mtop).toHaveLength(7);
    expect(mtop[0]).toMatchObject({ query: 'When will my next alarm start', response: 'GET_ALARM' });
    expect(loadTaskExamples('DBPedia', { dataDir }).examples).toHaveLength(3); // header "query,pos "
    expect(loadTaskExamples('MedrxivClusteringP2P', { dataDir }).examples).toHaveLength(5); // 2 blank rows at the end
  });

  it('decodes quoted fields like Python csv, irregular quotes included', () => {
    const hotpot = loadTaskExamples('HotpotQA', { dataDir }).examples;
    expect(hotpot[0].query).toBe('Which tennis player Anna-Lena Grönefeld or Mats Wilander turned professional first ?');
    expect(hotpot[2].query).toBe('The game show Keep It in the Family was hosted by an actor that played what role in Coronation Street"?"');
    const sts17 = loadTaskExamples('STS17', { dataDir }).examples; // `, "…"`: a quote after a space is literal
    expect(sts17[0].response).toBe(' "The sun sets behind the mountains."');
  });

  it('reads the copy shipped in the package by default, with FlagEmbedding\'s MIT license beside it', () => {
    expect(loadTaskExamples('NQ').instruction).toBe(instructions.NQ);
    expect(readFileSync(join(dataDir, 'LICENSE'), 'utf8')).toMatch(/MIT License/);
  });

  it('returns no examples for a task whose file has only a header', () => {
    expect(loadTaskExamples('CQADupstackRetrieval', { dataDir }).examples).toEqual([]);
  });

  it('lists the 57 tasks', () => {
    const tasks = listExampleTasks({ dataDir });
    expect(tasks).toHaveLength(57);
    expect(tasks).toEqual(Object.keys(instructions).sort());
  });

  it('names the known tasks when the task is unknown', () => {
    expect(() => loadTaskExamples('NoSuchTask', { dataDir })).toThrow(InvalidInputError);
    expect(() => loadTaskExamples('NoSuchTask', { dataDir })).toThrow(/known tasks: .*MSMARCO/);
  });

  it('says how to point at the data when the folder is missing', () => {
    const missing = join(tmpdir(), 'bge-gguf-no-such-dir');
    expect(() => loadTaskExamples('MSMARCO', { dataDir: missing })).toThrow(InvalidInputError);
    expect(() => loadTaskExamples('MSMARCO', { dataDir: missing })).toThrow(/dataDir|BGE_GGUF_ICL_EXAMPLES/);
  });

  it('refuses a CSV without a query and a response column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bge-gguf-icl-'));
    writeFileSync(join(dir, 'instructions.json'), JSON.stringify({ T: 'do it' }));
    writeFileSync(join(dir, 'T.csv'), 'a,b\n1,2\n');
    expect(() => loadTaskExamples('T', { dataDir: dir })).toThrow(InvalidInputError);
  });
});

describe('parseCsv', () => {
  it('handles quoted commas, doubled quotes, line breaks inside quotes and CRLF', () => {
    expect(parseCsv('a,"b,c"\r\n"d ""e""\nf",g\n')).toEqual([
      ['a', 'b,c'],
      ['d "e"\nf', 'g'],
    ]);
  });

  it('strips a UTF-8 BOM and keeps a last row without a line end', () => {
    expect(parseCsv('\ufeffx,y\n1,')).toEqual([
      ['x', 'y'],
      ['1', ''],
    ]);
  });

  it('treats a quote inside an unquoted field as text', () => {
    expect(parseCsv('ab"c,d\n')).toEqual([['ab"c', 'd']]);
  });

  it('refuses a quoted field that never closes', () => {
    expect(() => parseCsv('"abc\n')).toThrow(InvalidInputError);
  });
});
