// Emmett's PostgreSQL event store (npm @event-driven-io/emmett-postgresql) as a peer of the
// ledger: `appendToStream` with an expected stream version to append, `readMessagesBatch` (what
// its consumers pull with) to read in global order. Its pool is a pg.Pool of our own sized to
// the concurrency (Emmett's default pool has 10 connections). Command line: common.mjs.
import { randomUUID } from 'node:crypto';
import { dumbo } from '@event-driven-io/dumbo';
import { STREAM_DOES_NOT_EXIST } from '@event-driven-io/emmett';
import { getPostgreSQLEventStore, readMessagesBatch } from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { answer, check, parseArgs, w1Answer, w3Answer, writers } from './common.mjs';

const BATCH = 10000;
const FILL = 5000;

const options = parseArgs(process.argv.slice(2));
const url = options['database-url'];

function open(max) {
  const pool = new pg.Pool({ connectionString: url, max });
  const store = getPostgreSQLEventStore(url, {
    connectionOptions: { pooled: true, pool },
    schema: { autoMigration: 'None' },
  });
  return { pool, store };
}

async function rows(pool) {
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM emt_messages');
  return rows[0].n;
}

function message(payload) {
  return { type: payload.event_type, data: payload.payload, metadata: payload.metadata };
}

async function setup() {
  const store = getPostgreSQLEventStore(url);
  await store.schema.migrate();
  await store.close();
  answer({ installed: 'emmett-postgresql schema' });
}

async function w1() {
  const { concurrency, seconds, payload, pool: connections } = options;
  const { pool, store } = open(connections);
  const before = await rows(pool);
  const measured = await writers(concurrency, seconds, async () => {
    const appended = await store.appendToStream(
      `measurement-${randomUUID()}`,
      [message(payload)],
      { expectedStreamVersion: STREAM_DOES_NOT_EXIST },
    );
    check(
      appended.nextExpectedStreamVersion === 1n,
      `w1: appendToStream answered version ${appended.nextExpectedStreamVersion}, not 1`,
    );
  });
  const after = await rows(pool);
  await store.close();
  await pool.end();
  answer(w1Answer(measured, after - before, [
    'every appendToStream to a new stream with expectedStreamVersion STREAM_DOES_NOT_EXIST answered version 1',
    `${concurrency} clients through a pg.Pool of ${connections} connections`,
  ]));
}

/** Appends events up to `events` in the store, `FILL` to a stream in one appendToStream. */
async function fill(pool, store) {
  const { events, payload } = options;
  const started = process.hrtime.bigint();
  let have = await rows(pool);
  check(have <= events, `fill: the store holds ${have} events already, more than ${events}`);
  while (have < events) {
    const batch = Math.min(FILL, events - have);
    const appended = await store.appendToStream(
      `measurement-${randomUUID()}`,
      Array.from({ length: batch }, () => message(payload)),
      { expectedStreamVersion: STREAM_DOES_NOT_EXIST },
    );
    check(appended.nextExpectedStreamVersion === BigInt(batch), `fill: appended ${appended.nextExpectedStreamVersion} of ${batch}`);
    have += batch;
  }
  check((await rows(pool)) === events, `fill: the store does not hold ${events} events`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function w3() {
  const { events, payload } = options;
  const { pool, store } = open(1);
  await fill(pool, store);
  const reader = dumbo({ connectionString: url, pool });
  const result = await w3Answer(events, payload, async () => {
    let after = 0n;
    let count = 0;
    let first;
    let data;
    let touched = 0;
    for (;;) {
      const batch = await readMessagesBatch(reader.execute, { after, batchSize: BATCH });
      for (const m of batch.messages) {
        const at = m.metadata.globalPosition;
        check(at > after, `w3: global position ${at} after ${after}`);
        after = at;
        // node-postgres decodes the jsonb columns with JSON.parse as it reads them.
        data = m.data;
        touched += Object.keys(data).length + Object.keys(m.metadata).length;
        if (count === 0) first = data;
        count += 1;
      }
      if (!batch.areMessagesLeft) break;
    }
    check(touched > 0, 'w3: decoded nothing');
    return { count, first, last: data };
  }, [`readMessagesBatch(after, batchSize ${BATCH}) (ORDER BY transaction_id, global_position; no index on them), jsonb decoded by node-postgres`]);
  await store.close();
  await pool.end();
  answer(result);
}

const commands = {
  setup,
  w1,
  fill: async () => {
    const { pool, store } = open(1);
    const seconds = await fill(pool, store);
    await store.close();
    await pool.end();
    answer({ events: options.events, seconds });
  },
  w3,
};
await commands[options.command]();
