/** The formats `stepwise diagram` draws in; apart from the drawing code, so the CLI lists them without loading it. */
export type DiagramFormat = 'mermaid' | 'json' | 'svg' | 'dot';
export const diagramFormats: readonly DiagramFormat[] = ['mermaid', 'json', 'svg', 'dot'];
