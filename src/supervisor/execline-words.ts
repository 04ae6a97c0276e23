/**
 * execline-words: a oneshot's `up` or `down` (s6-rc: an execline script) when no
 * `execlineb` is installed — read as one simple command line: words split on blanks and
 * newlines, `"…"` quoting with execline's backslash escapes, `#` comments at the start of a
 * word. A `{` or `}` block needs the real execlineb and is an error naming the line.
 */

/** EXECLINEB_PATHS are where s6-overlay (v3) and Debian's execline package put execlineb. */
export const EXECLINEB_PATHS: readonly string[] = ['/command/execlineb', '/usr/bin/execlineb'];

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };

/** splitExeclineWords splits `text` into argv; throws naming the line on what it cannot read without execlineb. */
export function splitExeclineWords(text: string): string[] {
  const words: string[] = [];
  let line = 1;
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`line ${line}: ${what} needs execlineb (not found at ${EXECLINEB_PATHS.join(' or ')})`);
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') line++;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    let word = '';
    let bare = true;
    while (i < text.length && !/\s/.test(text[i])) {
      if (text[i] === '"') {
        [word, i, line] = quoted(text, i + 1, word, line);
        bare = false;
      } else word += text[i++];
    }
    if (bare && (word === '{' || word === '}')) fail(`the execline block ${JSON.stringify(word)}`);
    words.push(word);
  }
  if (words.length === 0) throw new Error('no command');
  return words;
}

/** quoted reads a `"…"` string from `i` (after the quote); returns the word, the index after the closing quote and the line. */
function quoted(text: string, i: number, word: string, line: number): [string, number, number] {
  const start = line;
  while (i < text.length && text[i] !== '"') {
    if (text[i] === '\n') line++;
    if (text[i] === '\\' && i + 1 < text.length) {
      const e = text[i + 1];
      if (e !== '\n') word += ESCAPES[e] ?? e;
      else line++;
      i += 2;
      continue;
    }
    word += text[i++];
  }
  if (i >= text.length) throw new Error(`line ${start}: unterminated quote`);
  return [word, i + 1, line];
}
