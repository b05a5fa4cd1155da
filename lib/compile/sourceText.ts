/**
 * A .sql file with conversions between the parser's two position schemes:
 * statement and token locations are UTF-8 byte offsets, error cursors are character offsets.
 */
export class SourceText {
  readonly bytes: Buffer;
  private lineStarts: number[] = [0];

  constructor(
    readonly path: string,
    readonly text: string,
  ) {
    this.bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i < this.bytes.length; i++) if (this.bytes[i] === 0x0a) this.lineStarts.push(i + 1);
  }

  slice(start: number, end: number): string {
    return this.bytes.subarray(start, end).toString('utf8');
  }

  /** 1-based line and column (in characters) of a byte offset. */
  position(byteOffset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= byteOffset) lo = mid;
      else hi = mid - 1;
    }
    const lineStart = this.lineStarts[lo]!;
    const column = [...this.slice(lineStart, byteOffset)].length + 1;
    return { line: lo + 1, column };
  }

  /** Byte offset of a 0-based character (code point) offset into `text`. */
  static charToByte(text: string, charOffset: number): number {
    return Buffer.byteLength([...text].slice(0, charOffset).join(''), 'utf8');
  }

  where(byteOffset: number): string {
    const { line, column } = this.position(byteOffset);
    return `${this.path}:${line}:${column}`;
  }
}
