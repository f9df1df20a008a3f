import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The plot's font: DejaVu Sans regular and bold, from the dejavu-fonts-ttf package, so a machine without
 * fonts (a bare Debian, a CI image) renders text, and every machine renders the same picture.
 */
export function plotFontFiles(): [regular: string, bold: string] {
  const dir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  return [join(dir, 'DejaVuSans.ttf'), join(dir, 'DejaVuSans-Bold.ttf')];
}

/**
 * Text widths in DejaVu Sans, read from the font file the PNG renderer is given (advance widths from the
 * TrueType `hmtx` table, characters to glyphs through `cmap`). Vega lays the plot out without a browser or
 * canvas and otherwise guesses every string as 0.8 em a character, which makes legends and margins a
 * third wider than the text and throws off where labels collide. Kerning is left out (a pixel or two
 * over a label).
 */

interface Widths {
  unitsPerEm: number;
  advance(codePoint: number): number;
}

function parseTrueType(buf: Buffer, file: string): Widths {
  const tables = new Map<string, number>();
  const numTables = buf.readUInt16BE(4);
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    tables.set(buf.toString('latin1', rec, rec + 4), buf.readUInt32BE(rec + 8));
  }
  const table = (tag: string): number => {
    const at = tables.get(tag);
    if (at === undefined) throw new Error(`${file}: no ${tag} table; not a TrueType font`);
    return at;
  };
  const unitsPerEm = buf.readUInt16BE(table('head') + 18);
  const numberOfHMetrics = buf.readUInt16BE(table('hhea') + 34);
  const hmtx = table('hmtx');
  const glyphAdvance = (glyph: number) => buf.readUInt16BE(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));

  // cmap: the Windows Unicode BMP subtable (platform 3, encoding 1), format 4.
  const cmap = table('cmap');
  let sub = -1;
  for (let i = 0; i < buf.readUInt16BE(cmap + 2); i++) {
    const rec = cmap + 4 + 8 * i;
    if (buf.readUInt16BE(rec) === 3 && buf.readUInt16BE(rec + 2) === 1) sub = cmap + buf.readUInt32BE(rec + 4);
  }
  if (sub < 0 || buf.readUInt16BE(sub) !== 4) throw new Error(`${file}: no format-4 Unicode cmap`);
  const segCount = buf.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + 2 * segCount + 2;
  const deltas = starts + 2 * segCount;
  const rangeOffsets = deltas + 2 * segCount;
  const glyphOf = (c: number): number => {
    for (let i = 0; i < segCount; i++) {
      if (buf.readUInt16BE(ends + 2 * i) < c) continue;
      const start = buf.readUInt16BE(starts + 2 * i);
      if (start > c) return 0;
      const delta = buf.readInt16BE(deltas + 2 * i);
      const rangeOffset = buf.readUInt16BE(rangeOffsets + 2 * i);
      if (rangeOffset === 0) return (c + delta) & 0xffff;
      const g = buf.readUInt16BE(rangeOffsets + 2 * i + rangeOffset + 2 * (c - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number>();
  return {
    unitsPerEm,
    advance(c) {
      let w = cache.get(c);
      if (w === undefined) {
        w = c > 0xffff ? unitsPerEm : glyphAdvance(glyphOf(c));
        cache.set(c, w);
      }
      return w;
    },
  };
}

let fonts: { regular: Widths; bold: Widths } | null = null;

function load(): { regular: Widths; bold: Widths } {
  if (!fonts) {
    const [regular, bold] = plotFontFiles().map((f) => parseTrueType(readFileSync(f), f));
    fonts = { regular: regular!, bold: bold! };
  }
  return fonts;
}

/** Width in pixels of `text` set in DejaVu Sans at `fontSize` px. */
export function textWidth(text: string, fontSize: number, bold = false): number {
  const font = bold ? load().bold : load().regular;
  let units = 0;
  for (const ch of text) units += font.advance(ch.codePointAt(0)!);
  return (units / font.unitsPerEm) * fontSize;
}
