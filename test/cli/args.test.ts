import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { ArgsError, HelpRequested, parseArgs, usage, type CommandSpec } from '../../src/cli/args.js';

const restore: CommandSpec = {
  name: 'restore',
  summary: 'Restore a database from a replica.',
  usage: 'restore [flags] DB_PATH',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'config', type: 'string', placeholder: 'PATH', description: 'Config file.' },
    { name: 'output', short: 'o', type: 'string', placeholder: 'PATH', description: 'Output path.' },
    { name: 'if-replica-exists', type: 'boolean', description: 'Exit 0 when no backup exists.' },
    { name: 'no-expand-env', type: 'boolean', description: 'Do not expand env vars.' },
  ],
};

const base = { config: undefined, output: undefined, 'if-replica-exists': false, 'no-expand-env': false };

function usageErrorOf(spec: CommandSpec, argv: string[]): string {
  try {
    parseArgs(spec, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toBeInstanceOf(ArgsError);
    expect((err as ArgsError).spec).toBe(spec);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('parseArgs', () => {
  it('gives defaults: booleans false, strings undefined', () => {
    expect(parseArgs(restore, ['db'])).toEqual({ flags: base, args: ['db'] });
  });

  it.each([
    [['-config', 'c.yml', 'db']],
    [['--config', 'c.yml', 'db']],
    [['-config=c.yml', 'db']],
    [['--config=c.yml', 'db']],
  ])('reads a string flag as %j', (argv) => {
    expect(parseArgs(restore, argv)).toEqual({ flags: { ...base, config: 'c.yml' }, args: ['db'] });
  });

  it('reads the one-letter alias under the long name', () => {
    expect(parseArgs(restore, ['-o', 'out.db', 'db']).flags.output).toBe('out.db');
    expect(parseArgs(restore, ['-o=out.db', 'db']).flags.output).toBe('out.db');
    expect(parseArgs(restore, ['--o', 'out.db', 'db']).flags.output).toBe('out.db');
    expect(parseArgs(restore, ['-output', 'out.db', 'db']).flags.output).toBe('out.db');
  });

  it('keeps an empty value and a value after = that contains =', () => {
    expect(parseArgs(restore, ['-config=', 'db']).flags.config).toBe('');
    expect(parseArgs(restore, ['-config=a=b', 'db']).flags.config).toBe('a=b');
  });

  it('takes the next argument as the value even when it looks like a flag (Go)', () => {
    expect(parseArgs(restore, ['-config', '-o', 'db']).flags).toEqual({ ...base, config: '-o' });
  });

  it.each([
    [['-if-replica-exists', 'db'], true],
    [['--if-replica-exists', 'db'], true],
    [['-if-replica-exists=true', 'db'], true],
    [['-if-replica-exists=1', 'db'], true],
    [['-if-replica-exists=false', 'db'], false],
    [['--if-replica-exists=F', 'db'], false],
  ])('reads a boolean flag as %j', (argv, want) => {
    expect(parseArgs(restore, argv).flags['if-replica-exists']).toBe(want);
  });

  it('does not let a boolean flag take the next argument', () => {
    expect(parseArgs(restore, ['-if-replica-exists', 'db'])).toEqual({ flags: { ...base, 'if-replica-exists': true }, args: ['db'] });
  });

  it('lets the last occurrence of a flag win', () => {
    expect(parseArgs(restore, ['-config', 'a', '-config=b', 'db']).flags.config).toBe('b');
  });

  it('stops at the first positional argument: later flags are arguments', () => {
    const spec = { ...restore, maxArgs: 3 };
    expect(parseArgs(spec, ['db', '-o', 'x'])).toEqual({ flags: base, args: ['db', '-o', 'x'] });
  });

  it('stops at --, which is consumed; everything after is positional', () => {
    const spec = { ...restore, maxArgs: 2 };
    expect(parseArgs(spec, ['-o', 'x', '--', '-config', 'y'])).toEqual({ flags: { ...base, output: 'x' }, args: ['-config', 'y'] });
    expect(parseArgs(spec, ['--', '--']).args).toEqual(['--']);
  });

  it('treats a lone - as positional', () => {
    expect(parseArgs(restore, ['-']).args).toEqual(['-']);
  });

  it.each([['-h'], ['-help'], ['--help'], ['--h'], ['-help=false']])('throws HelpRequested for %s', (flag) => {
    expect(() => parseArgs(restore, ['-config', 'x', flag])).toThrow(HelpRequested);
  });

  it('carries the spec in HelpRequested', () => {
    try {
      parseArgs(restore, ['-h']);
      expect.unreachable();
    } catch (err) {
      expect((err as HelpRequested).spec).toBe(restore);
    }
  });

  it('does not treat -h after the first positional as help', () => {
    const spec = { ...restore, maxArgs: 2 };
    expect(parseArgs(spec, ['db', '-h']).args).toEqual(['db', '-h']);
  });

  it.each([
    [['-foo', 'db'], 'unknown flag: -foo'],
    [['--foo=1', 'db'], 'unknown flag: --foo'],
    [['-c', 'x', 'db'], 'unknown flag: -c'],
    [['-config'], 'flag needs an argument: -config'],
    [['--output'], 'flag needs an argument: --output'],
    [['-if-replica-exists=maybe', 'db'], 'invalid boolean value "maybe" for flag -if-replica-exists'],
    [['---config', 'x'], 'bad flag syntax: ---config'],
    [['-=x'], 'bad flag syntax: -=x'],
    [['a', 'b'], 'unexpected argument: "b"'],
    [['a', '-o', 'x'], 'unexpected argument: "-o" (flags go before arguments)'],
    [[], 'missing argument: expected 1, got 0'],
    [['-o', 'x'], 'missing argument: expected 1, got 0'],
  ])('rejects %j', (argv, message) => {
    expect(usageErrorOf(restore, argv)).toBe(message);
  });

  it.each([
    [['-if-replica-exists', 'false', 'db'], 'flag -if-replica-exists takes no value: "false" (write -if-replica-exists=false)'],
    [['--if-replica-exists', 'True', 'db'], 'flag --if-replica-exists takes no value: "True" (write --if-replica-exists=true)'],
    [['-no-expand-env', 'TRUE'], 'flag -no-expand-env takes no value: "TRUE" (write -no-expand-env=true)'],
  ])('names a boolean flag given a separate value: %j', (argv, message) => {
    expect(usageErrorOf(restore, argv)).toBe(message);
  });

  it('takes a boolean flag\'s value after = and any other word after it as an argument', () => {
    expect(parseArgs(restore, ['-if-replica-exists=false', 'db']).flags['if-replica-exists']).toBe(false);
    expect(parseArgs(restore, ['-if-replica-exists', 'f']).args).toEqual(['f']);
    expect(parseArgs(restore, ['-if-replica-exists', '--', 'false']).args).toEqual(['false']);
  });

  it('takes true / false after a boolean flag as the command when the arguments are a command line', () => {
    const init: CommandSpec = { ...restore, minArgs: 0, maxArgs: undefined, argsAreCommand: true };
    expect(parseArgs(init, ['-no-expand-env', 'true', '-x']).args).toEqual(['true', '-x']);
  });

  it('words the count errors for open ranges', () => {
    const spec: CommandSpec = { name: 'x', summary: 's', usage: 'x', flags: [], minArgs: 2 };
    expect(usageErrorOf(spec, ['a'])).toBe('missing argument: expected at least 2, got 1');
    expect(parseArgs(spec, ['a', 'b', 'c', 'd']).args).toHaveLength(4);
    expect(usageErrorOf({ ...spec, minArgs: 0, maxArgs: 0 }, ['a'])).toBe('unexpected argument: "a"');
  });
});

describe('usage', () => {
  it('renders the synopsis, summary and flags in Go style', () => {
    expect(usage(restore)).toBe(
      [
        'Usage: lifeboat restore [flags] DB_PATH',
        '',
        'Restore a database from a replica.',
        '',
        'Flags:',
        '  -config PATH',
        '        Config file.',
        '  -o, -output PATH',
        '        Output path.',
        '  -if-replica-exists',
        '        Exit 0 when no backup exists.',
        '  -no-expand-env',
        '        Do not expand env vars.',
        '  -h, -help',
        '        Show this help.',
        '',
      ].join('\n'),
    );
  });

  it('accepts a multi-line synopsis, with or without the lifeboat prefix', () => {
    const spec: CommandSpec = { name: 'r', summary: 'S.', usage: 'lifeboat replicate [flags]\nreplicate [flags] DB URL...', flags: [] };
    expect(usage(spec).split('\n').slice(0, 2)).toEqual(['Usage: lifeboat replicate [flags]', '       lifeboat replicate [flags] DB URL...']);
  });
});
