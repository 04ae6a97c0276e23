/**
 * expand: environment expansion of the config text with Go's `os.ExpandEnv` semantics,
 * as the reference applies it to `litestream.yml` before parsing:
 *
 * - `$NAME` (ASCII letters, digits, `_`) and `${ANY TEXT}` are replaced by the variable;
 *   unset variables become the empty string.
 * - One special character after `$` is a name too: `$$`, `$1`, `$*`, `$#`, `$@`, `$!`,
 *   `$?`, `$-` (and `${1}` etc.) look up that one-character variable, normally unset → "".
 * - `${}` and an unclosed `${` are removed (Go eats the bad syntax).
 * - A `$` followed by anything else (space, `/`, `"`, end of text) stays as it is.
 */

/** expandEnv replaces `$VAR` and `${VAR}` in `text` with values from `env` (Go `os.ExpandEnv`). */
export function expandEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = '';
  let i = 0;
  for (let j = 0; j < text.length; j++) {
    if (text[j] !== '$' || j + 1 >= text.length) continue;
    out += text.slice(i, j);
    const { name, width } = shellName(text.slice(j + 1));
    if (name === '' && width > 0) {
      // Bad syntax (`${}` or an unclosed `${`): eat it.
    } else if (name === '') {
      out += '$';
    } else {
      out += env[name] ?? '';
    }
    j += width;
    i = j + 1;
  }
  return out + text.slice(i);
}

function isSpecial(c: string | undefined): boolean {
  return c !== undefined && '*#$@!?-0123456789'.includes(c);
}

function isAlphaNum(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z0-9_]$/.test(c);
}

/** shellName returns the name after a `$` and how many characters it consumed (Go `getShellName`). */
function shellName(s: string): { name: string; width: number } {
  if (s[0] === '{') {
    if (s.length > 2 && isSpecial(s[1]) && s[2] === '}') return { name: s[1], width: 3 };
    const close = s.indexOf('}', 1);
    if (close === 1) return { name: '', width: 2 };
    if (close < 0) return { name: '', width: 1 };
    return { name: s.slice(1, close), width: close + 1 };
  }
  if (isSpecial(s[0])) return { name: s[0], width: 1 };
  let i = 0;
  while (i < s.length && isAlphaNum(s[i])) i++;
  return { name: s.slice(0, i), width: i };
}
