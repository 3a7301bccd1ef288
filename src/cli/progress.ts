/**
 * Progress for long CLI work: on a terminal, a live status line rewritten in
 * place beside the permanent lines; elsewhere (pipes, CI logs) plain lines only.
 * Colours and the live line honour NO_COLOR and TERM=dumb.
 */
export interface Progress {
  /** A permanent line. */
  line(text: string): void;
  /** The live status; shown only on a terminal, replaced by the next one. */
  status(text: string): void;
  /** Clears the live status. */
  done(): void;
}

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function isLiveTerminal(stream: NodeJS.WriteStream = process.stderr): boolean {
  return stream.isTTY === true && process.env['TERM'] !== 'dumb' && !process.env['CI'];
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, live = isLiveTerminal(stream)): Progress {
  let shown = false;
  let frame = 0;
  const clear = () => {
    if (shown) stream.write('\r\u001b[2K');
    shown = false;
  };
  return {
    line(text) {
      clear();
      stream.write(`${text}\n`);
    },
    status(text) {
      if (!live) return;
      clear();
      const width = stream.columns ?? 100;
      const spinner = frames[frame++ % frames.length];
      stream.write(`${spinner} ${text}`.slice(0, Math.max(10, width - 1)));
      shown = true;
    },
    done: clear,
  };
}
