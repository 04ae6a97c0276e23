/**
 * ticker: the example service's daemon. It reports ready on the notification fd (s6's
 * protocol: one newline on the fd named in ./notification-fd), logs a line every minute,
 * and exits 0 on its stop signal (./down-signal).
 */
import fs from 'node:fs';

const name = process.argv[2] ?? 'example';
const fd = Number(fs.readFileSync(new URL('./notification-fd', import.meta.url), 'utf8').trim());

console.log(`${name}: started`);
fs.writeSync(fd, '\n');
fs.closeSync(fd);

const timer = setInterval(() => console.log(`${name}: still running`), 60_000);
process.on('SIGTERM', () => {
  console.log(`${name}: stopping`);
  clearInterval(timer);
  process.exitCode = 0;
});
