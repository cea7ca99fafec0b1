import type mysql from 'mysql2/promise';
import type { Agent } from '../../agent/agent.js';
import type { openCatalog } from '../../catalog/db.js';
import { createLogger } from '../../log.js';
import type { ParsedArgs } from '../../config/resolve.js';
import { DEMO_SCHEMA, demoRows } from '../demo-data.js';
import { followCommand } from './control.js';
import { renderTable } from '../table.js';
import type { CliCommand } from './index.js';

const say = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

/**
 * The embedded default: throwaway MariaDB and PostgreSQL, a sample shop,
 * the catalogue, an agent, a snapshot, a live replica and changes arriving.
 * Ctrl-C stops everything and removes the servers.
 */
export const demoCommand: CliCommand = {
  summary: 'throwaway servers, sample data, a live replica (Ctrl-C ends)',
  usage: '[--seconds N] [--pretty]',
  flags: { seconds: { kind: 'seconds' }, pretty: { kind: 'boolean' } },
  async run(args: ParsedArgs) {
    // loaded here, not at the top: the other commands start without the servers, the agent and mysql2
    const [{ default: mysqlClient }, { Agent: AgentClass }, { openCatalog: open }, { callControl, showStatus }, { installCatalog }, { startThrowawayPair, stopOnExit }] =
      await Promise.all([
        import('mysql2/promise'), import('../../agent/agent.js'), import('../../catalog/db.js'), import('../../catalog/control.js'),
        import('../../catalog/installer.js'), import('../../servers/index.js'),
      ]);
    const secondsFlag = args.flags.get('seconds');
    const seconds = typeof secondsFlag === 'string' ? Number(secondsFlag) : Infinity;
    say('starting throwaway MariaDB (binlog on) and PostgreSQL from the local binaries...');
    const servers = await startThrowawayPair({ log: (m) => say(`  ${m}`) });
    // Ctrl-C ends the demo in order (agent first, then the servers); the exit
    // hook still kills the servers if the process ends any other way
    const unregister = stopOnExit([servers.mysql, servers.pg], { signals: false });
    const log = createLogger({ level: 'warn', pretty: args.flags.get('pretty') === true });
    let agent: Agent | null = null;
    let my: mysql.Connection | null = null;
    let cat: ReturnType<typeof openCatalog> | null = null;
    let stop = false;
    const onSignal = (): void => {
      // a second Ctrl-C does not wait for the orderly shutdown
      if (stop) process.exit(130);
      stop = true;
      say('\nstopping...');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      say(`MariaDB   ${servers.mysql.url}\nPostgreSQL ${servers.pg.url}`);
      my = await mysqlClient.createConnection(servers.mysql.url);
      await my.query('CREATE DATABASE shop CHARACTER SET utf8mb4');
      await my.query('USE shop');
      for (const stmt of [...DEMO_SCHEMA, ...demoRows()]) await my.query(stmt);
      say('sample database `shop` loaded (customers, products, orders)');

      await installCatalog(servers.pg.url);
      say('schema sch_chameleon installed');
      agent = new AgentClass({ pgUrl: servers.pg.url, log, leaseSeconds: 10 });
      await agent.start();
      say('agent running\n');

      cat = open(servers.pg.url, { max: 2 });
      const sql = (text: string): void => say(`psql> ${text}`);
      sql(`SELECT sch_chameleon.add_source('shop', 'mysql://root@127.0.0.1:${servers.mysql.port}', '{"shop": "shop"}');`);
      await callControl(cat, 'add_source', ['shop', servers.mysql.url, '{"shop": "shop"}', '{}']);
      sql(`SELECT sch_chameleon.init_replica('shop');`);
      const init = await callControl(cat, 'init_replica', ['shop']);
      await followCommand(cat, init, process.stdout);
      if (stop) return 0;
      sql(`SELECT sch_chameleon.start_replica('shop');`);
      const start = await callControl(cat, 'start_replica', ['shop']);
      await followCommand(cat, start, process.stdout);

      say('\nlive changes in MariaDB, as PostgreSQL sees them (Ctrl-C to end):');
      const started = Date.now();
      for (let i = 1; !stop && Date.now() - started < seconds * 1000; i++) {
        const email = `demo${i}.${Date.now()}@example.com`;
        await my.query('START TRANSACTION');
        const [res] = await my.query<mysql.ResultSetHeader>('INSERT INTO customers (name, email) VALUES (?, ?)', [`Demo ${i}`, email]);
        await my.query("INSERT INTO orders (customer_id, sku, qty, status) VALUES (?, 'SKU00001', ?, 'paid')", [res.insertId, i]);
        await my.query("UPDATE products SET stock = stock - ? WHERE sku = 'SKU00001'", [i]);
        await my.query('COMMIT');
        const [[pos]] = await my.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
        const t0 = Date.now();
        const applied = await cat.pool.query('SELECT sch_chameleon.wait_for_position($1, $2, $3)', ['shop', `${pos.File}:${pos.Position}`, '30 seconds']);
        const pg = await cat.pool.query(
          `SELECT c.name, o.qty, p.stock FROM shop.customers c JOIN shop.orders o ON o.customer_id = c.id
             JOIN shop.products p ON p.sku = o.sku WHERE c.email = $1`, [email]);
        say(`  MariaDB commit #${i} at ${pos.File}:${pos.Position} → in PostgreSQL after ${Date.now() - t0} ms: ` +
          `${JSON.stringify(pg.rows[0])} (replay at ${applied.rows[0].wait_for_position})`);
        if (i === 2) {
          // DDL follows the data, in its place between the row changes
          const ddl = 'ALTER TABLE customers ADD COLUMN loyalty INT NOT NULL DEFAULT 0';
          await my.query(ddl);
          const [[at]] = await my.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
          await cat.pool.query('SELECT sch_chameleon.wait_for_position($1, $2, $3)', ['shop', `${at.File}:${at.Position}`, '30 seconds']);
          const col = await cat.pool.query(
            `SELECT format_type(a.atttypid, a.atttypmod) AS type, pg_get_expr(d.adbin, d.adrelid) AS dflt
               FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE a.attrelid = 'shop.customers'::regclass AND a.attname = 'loyalty'`);
          say(`  MariaDB ${ddl} → in PostgreSQL: column loyalty ${col.rows[0]?.type ?? '(missing)'} default ${col.rows[0]?.dflt ?? 'none'} ` +
            '(sch_chameleon.show_ddl() lists it)');
        }
        await new Promise((r) => setTimeout(r, 1500));
      }
      say('');
      process.stdout.write(renderTable(await showStatus(cat), ['source', 'status', 'consistent', 'read_lag', 'replay_lag', 'replay_position', 'events_applied']));
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      say('stopping the agent and the throwaway servers...');
      await cat?.close().catch(() => undefined);
      await my?.end().catch(() => undefined);
      await agent?.stop().catch(() => undefined);
      unregister();
      await servers.stop();
      say('done');
    }
  },
};
