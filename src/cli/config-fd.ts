/**
 * config-fd: `replicate -config-fd N` — the config file as this process parsed it, handed to
 * the init that started it ahead of time (supervisor/prestart.ts), so that the init needs no
 * YAML parser of its own. One JSON text (config/load.ts ParsedText), then the end of file.
 * `restore -config-fd N` reads the same from the init, for the same reason.
 */
import { fs } from '../builtin.js';
import { decodeParsedText, type ParsedText } from '../config/load.js';

/**
 * readParsedConfig reads a parsed config from descriptor `fd` to its end, then closes it.
 * Best effort: undefined when there is nothing readable there (the file is parsed then).
 */
export function readParsedConfig(fd: number): ParsedText | undefined {
  try {
    return decodeParsedText(fs.readFileSync(fd, 'utf8'));
  } catch {
    return undefined;
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // Not open: nothing to close.
    }
  }
}

/**
 * ParsedConfigOut writes the parsed config on a descriptor, once, and closes it. Best
 * effort: a reader that gets nothing, or a text cut short, parses the file itself.
 */
export class ParsedConfigOut {
  private open = true;

  constructor(private readonly fd: number) {}

  /** write sends the parsed config as one JSON text, then closes the descriptor. */
  readonly write = (parsed: ParsedText): void => {
    if (!this.open) return;
    const bytes = Buffer.from(JSON.stringify(parsed));
    try {
      for (let off = 0; off < bytes.length; ) off += fs.writeSync(this.fd, bytes, off);
    } catch {
      // The reader is gone (EPIPE): it parses the file itself.
    }
    this.close();
  };

  /** close closes the descriptor if still open: the reader sees the end, with or without a config. */
  readonly close = (): void => {
    if (!this.open) return;
    this.open = false;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Already closed (not ours to report).
    }
  };
}
