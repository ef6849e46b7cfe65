/**
 * The record of a simulation run. Every line is folded into a hash (FNV-1a, 32 bits) so two
 * runs of one seed can be compared cheaply; the lines themselves are kept only when asked for,
 * plus a short tail that is printed when a run fails.
 */
export class Trace {
  private hashValue = 0x811c9dc5;
  private readonly kept: string[] = [];
  private readonly tail: string[] = [];
  lines = 0;

  constructor(
    private readonly keepAll: boolean,
    private readonly tailMax = 60,
  ) {}

  record(time: number, line: string): void {
    const text = `${time.toFixed(3)} ${line}`;
    let h = this.hashValue;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    this.hashValue = h;
    this.lines++;
    if (this.keepAll) this.kept.push(text);
    this.tail.push(text);
    if (this.tail.length > this.tailMax) this.tail.shift();
  }

  hash(): string {
    return this.hashValue.toString(16).padStart(8, '0');
  }

  all(): readonly string[] {
    return this.kept;
  }

  last(): readonly string[] {
    return this.tail;
  }
}
