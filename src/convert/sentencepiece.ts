/**
 * Reads what a SentencePiece model file (sentencepiece.bpe.model, a protobuf ModelProto) holds for
 * conversion: the pieces with score and type, the trainer's model type and the normalizer spec.
 * A minimal protobuf wire-format reader: only the fields used here are decoded, others skipped.
 */
import { BgeGgufError } from '../errors.js';

export interface SentencePiece {
  piece: string;
  score: number;
  /** sentencepiece's Type: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. */
  type: number;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  /** TrainerSpec.model_type: 1 unigram, 2 bpe, 3 word, 4 char. */
  modelType: number;
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
}

const decoder = new TextDecoder();

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly where: string) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new BgeGgufError('UNSUPPORTED_MODEL', `${this.where}: truncated protobuf`);
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new BgeGgufError('UNSUPPORTED_MODEL', `${this.where}: bad protobuf varint`);
    }
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new BgeGgufError('UNSUPPORTED_MODEL', `${this.where}: truncated protobuf field`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  float(): number {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new BgeGgufError('UNSUPPORTED_MODEL', `${this.where}: unsupported protobuf wire type ${wire}`);
  }
  /** Calls `field(number, wire)` for each field; it returns false to have the field skipped. */
  each(field: (n: number, wire: number) => boolean): void {
    while (!this.done) {
      const key = this.varint();
      const wire = key & 7;
      if (!field(Math.floor(key / 8), wire)) this.skip(wire);
    }
  }
}

export function readSentencePieceModel(buf: Uint8Array, where: string): SentencePieceModel {
  const model: SentencePieceModel = { pieces: [], modelType: 1, precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true };
  const top = new Reader(buf, where);
  top.each((n, wire) => {
    if (wire !== 2 || (n !== 1 && n !== 2 && n !== 3)) return false;
    const r = new Reader(top.bytes(), where);
    if (n === 1) {
      // SentencePiece { piece = 1; score = 2; type = 3 }
      const piece: SentencePiece = { piece: '', score: 0, type: 1 };
      r.each((m, w) => {
        if (m === 1 && w === 2) piece.piece = decoder.decode(r.bytes());
        else if (m === 2 && w === 5) piece.score = r.float();
        else if (m === 3 && w === 0) piece.type = r.varint();
        else return false;
        return true;
      });
      model.pieces.push(piece);
    } else if (n === 2) {
      // TrainerSpec { model_type = 3 }
      r.each((m, w) => {
        if (m !== 3 || w !== 0) return false;
        model.modelType = r.varint();
        return true;
      });
    } else {
      // NormalizerSpec { precompiled_charsmap = 2; add_dummy_prefix = 3; remove_extra_whitespaces = 4 }
      r.each((m, w) => {
        if (m === 2 && w === 2) model.precompiledCharsmap = Uint8Array.from(r.bytes());
        else if (m === 3 && w === 0) model.addDummyPrefix = r.varint() !== 0;
        else if (m === 4 && w === 0) model.removeExtraWhitespaces = r.varint() !== 0;
        else return false;
        return true;
      });
    }
    return true;
  });
  if (model.pieces.length === 0) throw new BgeGgufError('UNSUPPORTED_MODEL', `${where}: no pieces; is it a SentencePiece model file?`);
  return model;
}
