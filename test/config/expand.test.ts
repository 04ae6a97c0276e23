import { describe, expect, it } from 'vitest';
import { expandEnv } from '../../src/config/expand.js';

const env = { HOME: '/home/me', BUCKET: 'my-bkt', EMPTY: '', A_1: 'a1', '1': 'one', $: 'dollar', 'WITH SPACE': 'ws' };

// Expected values follow Go's os.Expand / getShellName (os/env.go).
describe('expandEnv', () => {
  it.each([
    ['no variables', 'no variables'],
    ['$HOME/db', '/home/me/db'],
    ['${HOME}/db', '/home/me/db'],
    ['s3://${BUCKET}/db', 's3://my-bkt/db'],
    ['$BUCKETx', ''], // the name runs to the last alphanumeric
    ['${BUCKET}x', 'my-bktx'],
    ['$UNSET', ''],
    ['${UNSET}', ''],
    ['[$EMPTY]', '[]'],
    ['$A_1!', 'a1!'],
    ['$1', 'one'], // one special character is a name
    ['${1}', 'one'],
    ['$10', 'one0'],
    ['$$', 'dollar'], // "$$" looks up the variable "$"
    ['$$HOME', 'dollarHOME'],
    ['${WITH SPACE}', 'ws'], // anything inside braces is a name
    ['${}', ''], // bad syntax is eaten
    ['a${}b', 'ab'],
    ['${HOME', 'HOME'], // unclosed: "${" is eaten
    ['$', '$'], // lone $ at the end stays
    ['cost: 5$', 'cost: 5$'],
    ['$ x', '$ x'], // $ not followed by a name stays
    ['$/x', '$/x'],
    ['"$"', '"$"'],
    ['$-', ''], // special: "-" is unset
    ['a$*b', 'ab'],
    ['$µ', '$µ'], // not an ASCII name character
  ])('%j → %j', (input, want) => {
    expect(expandEnv(input, env)).toBe(want);
  });

  it('reads process.env by default', () => {
    process.env.LIFEBOAT_EXPAND_TEST = 'yes';
    try {
      expect(expandEnv('x=$LIFEBOAT_EXPAND_TEST')).toBe('x=yes');
    } finally {
      delete process.env.LIFEBOAT_EXPAND_TEST;
    }
  });
});
