export { applyLinear, type LinearHead } from './linear.js';
export { colbertVectors, lexicalWeights, type LexicalWeights } from './m3.js';
