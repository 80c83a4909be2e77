// Eventide message-db (npm @eventide/message-db) as a peer of the ledger: its own install
// script, `write_message` to append and `get_category_messages` to read in global order.
// Every stream is in the one category `measurement` (`measurement-<uuid>`): message-db
// serialises the writers of a category with an advisory lock, so one category gives a
// global order, as the ledger's log has. Command line: common.mjs.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { answer, check, fail, parseArgs, w1Answer, w3Answer, writers } from './common.mjs';

const CATEGORY = 'measurement';
const BATCH = 10000;

const options = parseArgs(process.argv.slice(2));
const url = options['database-url'];

function pool(max) {
  // message-db's functions call each other unqualified: clients set search_path.
  return new pg.Pool({ connectionString: url, max, options: '-c search_path=message_store' });
}

async function rows(client) {
  const { rows } = await client.query('SELECT count(*)::int AS n FROM message_store.messages');
  return rows[0].n;
}

async function setup() {
  const require = createRequire(import.meta.url);
  const database = join(dirname(require.resolve('@eventide/message-db/package.json')), 'database');
  const parsed = new URL(url);
  const env = {
    ...process.env,
    PGHOST: parsed.hostname,
    PGPORT: parsed.port || '5432',
    PGUSER: decodeURIComponent(parsed.username) || 'postgres',
    DATABASE_NAME: parsed.pathname.slice(1),
    CREATE_DATABASE: 'off',
  };
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  try {
    execFileSync('bash', [join(database, 'install.sh')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    fail(`message-db's install.sh failed: ${e.stderr}`);
  }
  const p = pool(1);
  const { rows: version } = await p.query('SELECT message_store_version() AS v');
  await p.end();
  answer({ installed: `message-db ${version[0].v}`, category: CATEGORY });
}

async function w1() {
  const { concurrency, seconds, payload, pool: connections } = options;
  const p = pool(connections);
  const data = JSON.stringify(payload.payload);
  const metadata = JSON.stringify(payload.metadata);
  const before = await rows(p);
  const measured = await writers(concurrency, seconds, async () => {
    const stream = `${CATEGORY}-${randomUUID().replaceAll('-', '')}`;
    // Expected version -1: the stream must not exist yet.
    const { rows: written } = await p.query(
      'SELECT write_message($1, $2, $3, $4, $5, -1) AS position',
      [randomUUID(), stream, payload.event_type, data, metadata],
    );
    check(Number(written[0].position) === 0, `w1: write_message answered ${written[0].position}, not 0`);
  });
  const after = await rows(p);
  await p.end();
  answer(w1Answer(measured, after - before, [
    `every write_message to a new stream with expected version -1 answered position 0; all streams in the category ${CATEGORY}`,
    `${concurrency} clients through a pg.Pool of ${connections} connections`,
  ]));
}

/** Writes events up to `events` in the store, `BATCH` a statement, each through write_message. */
async function fill(p) {
  const { events, payload } = options;
  const started = process.hrtime.bigint();
  let have = await rows(p);
  check(have <= events, `fill: the store holds ${have} events already, more than ${events}`);
  while (have < events) {
    const batch = Math.min(BATCH, events - have);
    const { rows: written } = await p.query(
      `SELECT count(write_message(gen_random_uuid()::varchar,
                                  '${CATEGORY}-' || replace(gen_random_uuid()::text, '-', ''),
                                  $1, $2, $3, -1))::int AS n
       FROM generate_series(1, $4)`,
      [payload.event_type, JSON.stringify(payload.payload), JSON.stringify(payload.metadata), batch],
    );
    check(written[0].n === batch, `fill: wrote ${written[0].n} of ${batch}`);
    have += batch;
  }
  check((await rows(p)) === events, `fill: the store does not hold ${events} events`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function w3() {
  const { events, payload } = options;
  const p = pool(1);
  await fill(p);
  const client = await p.connect();
  const result = await w3Answer(events, payload, async () => {
    let position = 1;
    let count = 0;
    let last = 0;
    let first;
    let data;
    let touched = 0;
    for (;;) {
      const { rows: batch } = await client.query(
        'SELECT global_position, data, metadata FROM get_category_messages($1, $2, $3)',
        [CATEGORY, position, BATCH],
      );
      for (const row of batch) {
        const at = Number(row.global_position);
        check(at > last, `w3: global position ${at} after ${last}`);
        last = at;
        data = JSON.parse(row.data);
        const metadata = JSON.parse(row.metadata);
        touched += Object.keys(data).length + Object.keys(metadata).length;
        if (count === 0) first = data;
        count += 1;
      }
      if (batch.length < BATCH) break;
      position = last + 1;
    }
    check(touched > 0, 'w3: decoded nothing');
    return { count, first, last: data };
  }, [`get_category_messages('${CATEGORY}', position, ${BATCH}), data and metadata decoded with JSON.parse`]);
  client.release();
  await p.end();
  answer(result);
}

const commands = {
  setup,
  w1,
  fill: async () => {
    const p = pool(1);
    const seconds = await fill(p);
    await p.end();
    answer({ events: options.events, seconds });
  },
  w3,
};
await commands[options.command]();
