// PostGraphile (npm postgraphile, v4) as W4's peer: a GraphQL server over plain tables,
// serving the schema the benchmark fills (by default `w4`: the measurements in a table with a
// primary key, and a SQL function for what was known at an instant). The benchmark sends the
// requests and checks the answers; this process only serves.
//
//   serve --database-url URL [--schema w4] [--pool 16]
//
// Listens on a free port of 127.0.0.1 and prints one line of JSON once it serves,
// {"port": N, "postgraphile": "4.x", "graphql": "15.x", "pool": P}; then serves until it is
// killed or its standard input closes.
import http from 'node:http';
import { createRequire } from 'node:module';
import pg from 'pg';
import postgraphilePackage from 'postgraphile';
import { answer, fail, LEDGER_POOL, optionPairs } from './common.mjs';

const { postgraphile } = postgraphilePackage;

function parse(argv) {
  const [command, ...rest] = argv;
  if (command !== 'serve') fail(`the first argument is serve, not ${JSON.stringify(command)}`);
  const options = optionPairs(rest, { schema: 'w4', pool: LEDGER_POOL });
  if (!/^[a-z_][a-z0-9_]*$/.test(options.schema)) fail(`--schema ${options.schema} is not a plain name`);
  const pool = Number(options.pool);
  if (!Number.isInteger(pool) || pool <= 0) fail('--pool must be a whole number above 0');
  options.pool = pool;
  return options;
}

const options = parse(process.argv.slice(2));
const pool = new pg.Pool({ connectionString: options['database-url'], max: options.pool });
const middleware = postgraphile(pool, options.schema, {
  graphqlRoute: '/graphql',
  // Reads only, as W4 reads: no mutations, no GraphiQL, no per-query log line.
  disableDefaultMutations: true,
  graphiql: false,
  disableQueryLog: true,
  retryOnInitFail: false,
  setofFunctionsContainNulls: false,
  ignoreRBAC: false,
  enableQueryBatching: false,
});
const server = http.createServer(middleware);
server.keepAliveTimeout = 60_000;
server.on('error', (e) => fail(`serving: ${e.message}`));
server.listen(0, '127.0.0.1', () => {
  const require = createRequire(import.meta.url);
  answer({
    port: server.address().port,
    postgraphile: require('postgraphile/package.json').version,
    graphql: require('graphql/package.json').version,
    pool: options.pool,
  });
});
// The benchmark holds our standard input open while it needs us.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
