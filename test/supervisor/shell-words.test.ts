import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { splitShellWords } from '../../src/supervisor/shell-words.js';

const cases: [string, string[]][] = [
  ['node server.js', ['node', 'server.js']],
  ['  node \t server.js\n--port 3 ', ['node', 'server.js', '--port', '3']],
  [`sh -c 'echo "a b" $HOME'`, ['sh', '-c', 'echo "a b" $HOME']],
  [`echo "it's" "a \\"b\\"" "\\$x" "\\n"`, ['echo', "it's", 'a "b"', '$x', '\\n']],
  [`a\\ b c\\\\d \\'e`, ['a b', 'c\\d', "'e"]],
  [`x'y'"z" '' ""`, ['xyz', '', '']],
  ['line\\\ncontinued', ['linecontinued']],
  ['', []],
];

describe('splitShellWords', () => {
  for (const [input, words] of cases) {
    it(`splits ${JSON.stringify(input)}`, () => {
      expect(splitShellWords(input)).toEqual(words);
    });
  }

  it('agrees with /bin/sh on every case without expansion or a bare newline', () => {
    let compared = 0;
    for (const [input, words] of cases) {
      if (input.includes('$') || /[^\\]\n/.test(input)) continue;
      const script = 'eval "set -- $1"; for w in "$@"; do printf \'%s\\0\' "$w"; done';
      const out = execFileSync('/bin/sh', ['-c', script, 'sh', input], { encoding: 'utf8' });
      expect(out.split('\0').slice(0, -1)).toEqual(words);
      compared++;
    }
    expect(compared).toBe(5);
  });

  it('rejects unterminated quotes and a trailing backslash, naming the input', () => {
    expect(() => splitShellWords(`echo 'abc`)).toThrow(`split command: unterminated single quote: "echo 'abc"`);
    expect(() => splitShellWords('echo "abc')).toThrow('split command: unterminated double quote: "echo \\"abc"');
    expect(() => splitShellWords('echo abc\\')).toThrow('split command: trailing backslash');
  });
});
