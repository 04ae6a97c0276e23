import { describe, expect, it } from 'vitest';
import { splitExeclineWords } from '../../src/supervisor/execline-words.js';

describe('splitExeclineWords (an up file without execlineb)', () => {
  it('reads one command line: blanks and newlines split, quotes and escapes, comments', () => {
    expect(splitExeclineWords('/etc/s6-overlay/scripts/prepare\n')).toEqual(['/etc/s6-overlay/scripts/prepare']);
    expect(splitExeclineWords('# set up\nmkdir -p\n  "/data/a dir" "tab\\there" ""\n')).toEqual(['mkdir', '-p', '/data/a dir', 'tab\there', '']);
    expect(splitExeclineWords('echo $HOME')).toEqual(['echo', '$HOME']);
  });

  it('refuses what needs execlineb, naming the line', () => {
    expect(() => splitExeclineWords('foreground {\n  echo hi\n}\necho bye')).toThrow(/^line 1: the execline block "\{" needs execlineb \(not found at \/command\/execlineb or \/usr\/bin\/execlineb\)$/);
    expect(() => splitExeclineWords('echo "open\n')).toThrow('line 1: unterminated quote');
    expect(() => splitExeclineWords('# nothing\n')).toThrow('no command');
  });
});
