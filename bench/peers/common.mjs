// What the Node drivers of the peer event stores share: the command line, the payload file,
// the timed loop of W1's concurrent writers, quantiles and the one-line JSON answer.
//
// Every driver takes the same command line:
//   setup --database-url URL
//   w1    --database-url URL --concurrency C --seconds S --payload FILE [--pool P]
//   fill  --database-url URL --events N --payload FILE
//   w3    --database-url URL --events N --payload FILE
// and prints one JSON object on standard output; a failed check exits with status 1 and says
// what was wrong on standard error.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

/** The ledger's pool size: no peer gets more connections than the ledger has. */
export const LEDGER_POOL = 16;

/**
 * `--name value` pairs added to `options` (the defaults), with `--database-url` required.
 * Every Node driver reads its options through this.
 */
export function optionPairs(rest, options) {
  for (let i = 0; i < rest.length; i += 2) {
    const name = rest[i];
    const value = rest[i + 1];
    if (!name.startsWith('--') || value === undefined) {
      fail(`options are --name value pairs; ${JSON.stringify(name)} is not`);
    }
    options[name.slice(2)] = value;
  }
  if (!options['database-url']) fail('--database-url is required');
  // node-postgres reads sslmode and the like differently from libpq: the server on
  // 127.0.0.1 is reached as libpq's clients reach it, without the URL's query.
  options['database-url'] = options['database-url'].split('?')[0];
  return options;
}

/** The subcommand and its options, e.g. { command: 'w1', 'database-url': '…', concurrency: 16 }. */
export function parseArgs(argv) {
  const [command, ...rest] = argv;
  const commands = ['setup', 'w1', 'fill', 'w3'];
  if (!commands.includes(command)) {
    fail(`the first argument is one of ${commands.join(', ')}, not ${JSON.stringify(command)}`);
  }
  const options = optionPairs(rest, { command });
  for (const name of ['concurrency', 'seconds', 'events', 'pool']) {
    if (name in options) {
      const value = Number(options[name]);
      if (!Number.isFinite(value) || value <= 0) fail(`--${name} must be a number above 0`);
      options[name] = value;
    }
  }
  const needs = { w1: ['concurrency', 'seconds', 'payload'], fill: ['events', 'payload'], w3: ['events', 'payload'] };
  for (const name of needs[command] ?? []) {
    if (!(name in options)) fail(`${command} needs --${name}`);
  }
  if ('payload' in options) options.payload = readPayload(options.payload);
  // Connections: as many as the clients, at most the ledger's pool (16), as W1's baselines.
  if (!('pool' in options)) options.pool = Math.min(options.concurrency ?? 1, LEDGER_POOL);
  return options;
}

/** The payload file: { event_type, event_version, payload, metadata } as the ledger stores them. */
function readPayload(path) {
  const file = JSON.parse(readFileSync(path, 'utf8'));
  for (const key of ['event_type', 'event_version', 'payload', 'metadata']) {
    if (!(key in file)) fail(`the payload file ${path} has no ${key}`);
  }
  return file;
}

export function fail(message) {
  console.error(`peer: ${message}`);
  process.exit(1);
}

export function check(condition, message) {
  if (!condition) fail(message);
}

/** The q-quantile of sorted values by the nearest-rank method. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/**
 * W1's writers: `concurrency` loops, each calling `appendOne()` one after the other until
 * `seconds` have passed; the latency of each in milliseconds. `appendOne` rejects on any
 * wrong answer.
 */
export async function writers(concurrency, seconds, appendOne) {
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  const latencies = [];
  const loop = async () => {
    while (process.hrtime.bigint() < deadline) {
      const sent = process.hrtime.bigint();
      await appendOne();
      latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return { latencies, elapsed };
}

/** W1's answer, after the store's own count of rows grew by `grew`. */
export function w1Answer(measured, grew, extra) {
  const { latencies, elapsed } = measured;
  check(
    grew === latencies.length,
    `w1: the store grew by ${grew} rows for ${latencies.length} appends acknowledged`,
  );
  return {
    appended: latencies.length,
    seconds: elapsed,
    p50_ms: quantile(latencies, 0.5),
    p99_ms: quantile(latencies, 0.99),
    checks: [`the store grew by exactly the ${grew} appends acknowledged`, ...extra],
  };
}

/** Times `read`, which returns { count, first, last } (the first and last decoded payloads). */
export async function w3Answer(events, payload, read, extra) {
  const started = process.hrtime.bigint();
  const got = await read();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  check(got.count === events, `w3: read ${got.count} events, the store holds ${events}`);
  check(
    isDeepStrictEqual(got.first, payload.payload) && isDeepStrictEqual(got.last, payload.payload),
    'w3: the first or last event read back differs from the payload written',
  );
  return {
    events: got.count,
    seconds,
    rows_per_s: got.count / seconds,
    checks: [
      `read ${got.count} events, every one in the store, in strictly increasing global position`,
      'the first and last decoded payloads equal the payload written',
      ...extra,
    ],
  };
}

/** Prints the answer as one line of JSON. */
export function answer(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}
