/**
 * Stop strings are matched in decoded text, not in token ids: "\n\nQ:" may arrive as one token, or as
 * "\n", "\n", "Q", ":" or any other split, and a stop may end in the middle of a token. After each new
 * token the continuation is decoded and only the part that could contain a new match is searched.
 */
export class StopMatcher {
  private readonly longest: number;
  private searchedUpTo = 0;

  constructor(
    readonly stops: readonly string[],
    private readonly decode: (ids: readonly number[]) => string,
  ) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  /** True once the decoded continuation contains any stop string. */
  matches(tokens: readonly number[]): boolean {
    const text = this.decode(tokens);
    const from = Math.max(0, Math.min(this.searchedUpTo, text.length) - this.longest + 1);
    this.searchedUpTo = text.length;
    return this.stops.some((s) => s.length > 0 && text.indexOf(s, from) >= 0);
  }

  /** The text before the earliest stop string. */
  cut(text: string): string {
    let end = text.length;
    for (const s of this.stops) {
      if (!s) continue;
      const i = text.indexOf(s);
      if (i >= 0 && i < end) end = i;
    }
    return text.slice(0, end);
  }
}
