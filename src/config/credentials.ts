/**
 * credentials: the reference's `applyLitestreamEnv`. `LITESTREAM_ACCESS_KEY_ID` and
 * `LITESTREAM_SECRET_ACCESS_KEY` fill `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` only
 * when those are unset, so `AWS_*` wins when both are set; keys in the config file win
 * over both (the S3 client uses them before the SDK's environment chain).
 */

const PAIRS: [from: string, to: string][] = [
  ['LITESTREAM_ACCESS_KEY_ID', 'AWS_ACCESS_KEY_ID'],
  ['LITESTREAM_SECRET_ACCESS_KEY', 'AWS_SECRET_ACCESS_KEY'],
];

/** applyLitestreamEnv copies LITESTREAM_* credentials to the unset AWS_* variables of `env`. */
export function applyLitestreamEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const [from, to] of PAIRS) {
    const v = env[from];
    if (v !== undefined && env[to] === undefined) env[to] = v;
  }
}
