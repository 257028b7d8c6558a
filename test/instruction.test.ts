import { describe, expect, it } from 'vitest';
import { applyInstruction, formatFields } from '../src/prompt/instruction.js';
import { InvalidInputError } from '../src/errors.js';

describe('instruction formats (Python str.format semantics)', () => {
  it('fills {} fields in order', () => {
    expect(formatFields('{}{}', 'Represent: ', 'query')).toBe('Represent: query');
    expect(formatFields('<instruct>{}\n<query>{}', 'Find', 'cats')).toBe('<instruct>Find\n<query>cats');
  });

  it('inserts values literally and honours escaped braces', () => {
    expect(formatFields('{}|{}', 'a{}b', 'c')).toBe('a{}b|c');
    expect(formatFields('{{x}} {}', 'y')).toBe('{x} y');
  });

  it('ignores extra values and rejects missing ones', () => {
    expect(formatFields('{}', 'a', 'b')).toBe('a');
    expect(() => formatFields('{}{}{}', 'a', 'b')).toThrow(InvalidInputError);
  });

  it('no instruction leaves the text unchanged', () => {
    expect(applyInstruction('text', null, '{}{}')).toBe('text');
    expect(applyInstruction('text', '', '{}{}')).toBe('text');
    expect(applyInstruction('text', 'Q: ', '{}{}')).toBe('Q: text');
  });
});
