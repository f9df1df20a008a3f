import { plotFontFiles } from './fontMetrics.js';

/**
 * SVG → PNG with resvg (a Rust SVG renderer shipped as a prebuilt npm binary, no install script). Text
 * needs a font file: a bare Debian or a CI image may have none at all, and a machine's own fonts would
 * make the picture depend on the machine. So the plot names DejaVu Sans first and resvg is given only
 * DejaVu Sans, from the dejavu-fonts-ttf package, with system fonts off: the same PNG everywhere.
 */

/** Rasterise at `scale` × the SVG's size (3 × a 330 px wide plot ≈ 300 dpi at 3.3 in). */
export async function svgToPng(svg: string, scale = 3): Promise<Buffer> {
  // Loaded on demand: a native module that only --plot FILE.png needs.
  const { Resvg } = await import('@resvg/resvg-js');
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: false, fontFiles: plotFontFiles(), defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
