import { InvalidInputError } from '../errors.js';

/**
 * Python's `format.format(*values)` for positional `{}` fields, which is how FlagEmbedding
 * applies `query_instruction_format` ("{}{}") and the ICL formats. Values are inserted
 * literally (a `{}` inside a value is not a field). `{{` and `}}` are literal braces.
 */
export function formatFields(format: string, ...values: string[]): string {
  let out = '';
  let next = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    const d = format[i + 1];
    if (c === '{' && d === '{') { out += '{'; i++; continue; }
    if (c === '}' && d === '}') { out += '}'; i++; continue; }
    if (c === '{' && d === '}') {
      if (next >= values.length) {
        throw new InvalidInputError(`format ${JSON.stringify(format)} has more {} fields than the ${values.length} value(s) given`);
      }
      out += values[next++];
      i++;
      continue;
    }
    out += c;
  }
  return out;
}

/** FlagEmbedding's get_detailed_instruct: no instruction means the text is used as is. */
export function applyInstruction(text: string, instruction: string | null | undefined, format: string): string {
  return instruction ? formatFields(format, instruction, text) : text;
}
