/**
 * shell-words: split a command line into argv the way a POSIX shell splits words — single
 * quotes, double quotes, backslashes — with no expansion of variables, globs or
 * substitutions (as Litestream's `-exec`). Used for `lifeboat replicate -exec "CMD"`.
 */

const BLANK = new Set([' ', '\t', '\n']);

/** DQUOTE_ESCAPABLE are the characters a backslash escapes inside double quotes (POSIX). */
const DQUOTE_ESCAPABLE = new Set(['$', '`', '"', '\\', '\n']);

/** splitShellWords splits `s` into words; throws on an unterminated quote or a trailing backslash. */
export function splitShellWords(s: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (BLANK.has(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '\\') {
      if (i + 1 >= s.length) throw new Error(`split command: trailing backslash: ${JSON.stringify(s)}`);
      i++;
      if (s[i] === '\n') continue;
      word += s[i];
      inWord = true;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end === -1) throw new Error(`split command: unterminated single quote: ${JSON.stringify(s)}`);
      word += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      const [text, end] = doubleQuoted(s, i + 1);
      word += text;
      i = end;
      inWord = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** doubleQuoted reads from `start` to the closing quote; returns the text and the quote's index. */
function doubleQuoted(s: string, start: number): [string, number] {
  let text = '';
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (c === '"') return [text, i];
    if (c === '\\' && i + 1 < s.length && DQUOTE_ESCAPABLE.has(s[i + 1])) {
      i++;
      if (s[i] !== '\n') text += s[i];
      continue;
    }
    text += c;
  }
  throw new Error(`split command: unterminated double quote: ${JSON.stringify(s)}`);
}
