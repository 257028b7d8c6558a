import { InvalidInputError } from '../errors.js';

/** Checks one option value: null when it is fine, else what it should be ("a boolean"). */
export type Check = (value: unknown) => string | null;

/**
 * One line per option of T. `-?` makes every key of T required here, so an option added to an
 * interface without a schema line is a type error.
 */
export type OptionSchema<T> = { readonly [K in keyof T]-?: Check };

/** true for an options type without an index signature (where any typo would type-check). */
export type HasNoIndexSignature<T> = string extends keyof T ? false : true;

/**
 * Validates an options object against its schema: unknown keys are errors that suggest the
 * closest known name (snake_case → camelCase, typos), values are type-checked. `undefined`
 * values count as absent. Returns the options typed, or {} when none were given.
 */
export function checkOptions<T extends object>(schema: OptionSchema<T>, options: unknown, where: string): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidInputError(`${where}: options must be an object, got ${describe(options)}`);
  }
  const known = Object.keys(schema);
  for (const key of Object.keys(options)) {
    const check = Object.prototype.hasOwnProperty.call(schema, key) ? (schema as Record<string, Check>)[key] : undefined;
    if (!check) {
      const suggestion = suggest(key, known);
      throw new InvalidInputError(`${where}: unknown option ${describe(key)}${suggestion ? `; did you mean "${suggestion}"?` : ''} (known: ${known.join(', ')})`);
    }
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const expected = check(value);
    if (expected !== null) throw new InvalidInputError(`${where}: option ${key} must be ${expected}, got ${describe(value)}`);
  }
  return options as T;
}

/** Checks a single value with a Check (for positional arguments such as maxLength). */
export function checkValue(check: Check, value: unknown, name: string): void {
  const expected = check(value);
  if (expected !== null) throw new InvalidInputError(`${name} must be ${expected}, got ${describe(value)}`);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'null prototype'})`;
  return `a ${typeof value}`;
}

/** The known name a mistyped one was meant to be: snake_case/kebab-case → camelCase first, then the nearest by edit distance. */
export function suggest(key: string, known: string[]): string | null {
  const camel = key.replace(/[_-]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
  const exact = known.find((k) => k.toLowerCase() === camel.toLowerCase());
  if (exact) return exact;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const name of known) {
    const distance = levenshtein(camel.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return bestDistance <= Math.max(2, Math.floor((best?.length ?? 0) / 3)) ? best : null;
}

function levenshtein(a: string, b: string): number {
  if (a.length > 100 || b.length > 100) return Infinity;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length];
}

// ---- value checks (one per kind of option) ----

export const isBoolean: Check = (v) => (typeof v === 'boolean' ? null : 'a boolean (true or false)');
export const isString: Check = (v) => (typeof v === 'string' ? null : 'a string');
export const isFunction: Check = (v) => (typeof v === 'function' ? null : 'a function');
export const isPositiveInt: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 1 ? null : 'a positive integer');
export const isPositiveNumber: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'a positive finite number');
/** An AbortSignal, also one from another realm or polyfill (an `aborted` flag and addEventListener). */
export const isAbortSignal: Check = (v) =>
  v instanceof AbortSignal ||
  (typeof v === 'object' && v !== null && typeof (v as AbortSignal).aborted === 'boolean' && typeof (v as AbortSignal).addEventListener === 'function')
    ? null
    : 'an AbortSignal (e.g. AbortSignal.timeout(5000) or controller.signal)';

export function oneOf(...allowed: readonly unknown[]): Check {
  return (v) => (allowed.includes(v) ? null : `one of ${allowed.map((a) => (typeof a === 'string' ? `'${a}'` : String(a))).join(', ')}`);
}

export function orNull(check: Check): Check {
  return (v) => {
    if (v === null) return null;
    const expected = check(v);
    return expected === null ? null : `${expected} or null`;
  };
}

/** A dense array (no holes) whose items all pass `item`. */
export function arrayOf(what: string, item: Check): Check {
  return (v) => {
    if (!Array.isArray(v)) return `an array of ${what}`;
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) return `an array of ${what} without holes (index ${i} is empty)`;
      if (item(v[i]) !== null) return `an array of ${what} (item ${i}: ${item(v[i])})`;
    }
    return null;
  };
}

/** A plain object whose own keys are checked with `fields` (small nested options such as ICL examples). */
export function objectWith(fields: Record<string, Check>): Check {
  return (v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return `an object with ${Object.keys(fields).join(', ')}`;
    for (const [key, value] of Object.entries(v)) {
      const check = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
      if (!check) return `an object with only ${Object.keys(fields).join(', ')} (unknown "${key}")`;
      if (value !== undefined && check(value) !== null) return `an object whose ${key} is ${check(value)}`;
    }
    return null;
  };
}
