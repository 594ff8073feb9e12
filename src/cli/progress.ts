// A progress line on stderr while the sources are queried: a spinner with the elapsed time when
// stderr is a terminal, one plain line otherwise (logs and CI keep no carriage returns).
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): boolean;
}

export interface Progress {
  stop(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function startProgress(stream: ProgressStream, text: string, now: () => number = Date.now): Progress {
  if (!stream.isTTY) {
    stream.write(`etcd-health: ${text} ...\n`);
    return { stop: () => undefined };
  }
  const started = now();
  let frame = 0;
  const draw = () => {
    const elapsed = ((now() - started) / 1000).toFixed(1);
    stream.write(`\r\u001b[K${FRAMES[frame++ % FRAMES.length]} ${text} ${elapsed}s`);
  };
  draw();
  const timer = setInterval(draw, 100);
  return {
    stop() {
      clearInterval(timer);
      stream.write('\r\u001b[K');
    },
  };
}
