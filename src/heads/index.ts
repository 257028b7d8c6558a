export { applyLinear, type LinearHead } from './linear.js';
export { colbertVectors, colbertVectorsFrom, lexicalWeights, lexicalWeightsFrom, type LexicalWeights } from './m3.js';
