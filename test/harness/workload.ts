import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type pg from 'pg';
import { tableRows } from './replica.js';

/**
 * A ledger: MySQL transactions whose every consistent state obeys
 * invariants PostgreSQL can check in one statement. Each transaction moves
 * an amount between two accounts (constant total), counts a move on both,
 * inserts an item and appends one row to `audit`, a table without a
 * primary key: the decoder replays such a table event by event, so an
 * insert applied twice shows as a duplicate there, and one lost as a gap.
 */

export const LEDGER_ACCOUNTS = 20;
export const LEDGER_TOTAL = LEDGER_ACCOUNTS * 1000;

/** mulberry32: a small seeded PRNG, so that a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: CHAMELEON_TEST_SEED replays one. */
export function testSeed(): number {
  const given = process.env.CHAMELEON_TEST_SEED;
  return given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

export async function createLedger(conn: mysql.Connection): Promise<void> {
  await conn.query('CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL, moves BIGINT NOT NULL DEFAULT 0)');
  await conn.query('CREATE TABLE items (id BIGINT AUTO_INCREMENT PRIMARY KEY, tx BIGINT NOT NULL, note VARCHAR(40) NOT NULL, UNIQUE KEY items_tx (tx))');
  await conn.query('CREATE TABLE audit (tx BIGINT NOT NULL, amount INT NOT NULL)');
  await conn.query(`INSERT INTO accounts (id, balance) VALUES ${Array.from({ length: LEDGER_ACCOUNTS }, (_, i) => `(${i + 1}, 1000)`).join(', ')}`);
}

export interface Workload {
  /** Transactions committed so far. */
  committed(): number;
  /** Stops after the transaction in flight; returns the number committed; rethrows a MySQL error. */
  stop(): Promise<number>;
}

/** Ledger transactions one after the other on their own connection, as fast as MySQL takes them. */
export function ledgerWorkload(url: string, random: () => number): Workload {
  let running = true;
  let committed = 0;
  const loop = (async () => {
    const conn = await mysql.createConnection(url);
    try {
      for (let tx = 1; running; tx++) {
        const from = 1 + Math.floor(random() * LEDGER_ACCOUNTS);
        const to = 1 + ((from + Math.floor(random() * (LEDGER_ACCOUNTS - 1))) % LEDGER_ACCOUNTS);
        const amount = 1 + Math.floor(random() * 50);
        await conn.query('START TRANSACTION');
        await conn.query('UPDATE accounts SET balance = balance - ?, moves = moves + 1 WHERE id = ?', [amount, from]);
        await conn.query('INSERT INTO items (tx, note) VALUES (?, ?)', [tx, `transfer ${from}->${to}`]);
        await conn.query('UPDATE accounts SET balance = balance + ?, moves = moves + 1 WHERE id = ?', [amount, to]);
        await conn.query('INSERT INTO audit (tx, amount) VALUES (?, ?)', [tx, amount]);
        if (tx % 7 === 0) await conn.query("UPDATE items SET note = CONCAT(note, ' seen') WHERE tx = ?", [tx - 3]);
        await conn.query('COMMIT');
        committed = tx;
      }
    } finally {
      await conn.end().catch(() => undefined);
    }
  })();
  // a failure surfaces in stop(); until then it must not crash the test process
  loop.catch(() => undefined);
  return {
    committed: () => committed,
    async stop() {
      running = false;
      await loop;
      return committed;
    },
  };
}

export interface LedgerState {
  total: number;
  moves: number;
  audit: number;
  auditDistinct: number;
  items: number;
}

/** The ledger as PostgreSQL shows it, in one statement (one snapshot). */
export async function ledgerState(pool: pg.Pool, schema: string): Promise<LedgerState> {
  const res = await pool.query<Record<keyof LedgerState, string>>(
    `SELECT (SELECT sum(balance) FROM ${schema}.accounts) AS total,
            (SELECT sum(moves) FROM ${schema}.accounts) AS moves,
            (SELECT count(*) FROM ${schema}.audit) AS audit,
            (SELECT count(DISTINCT tx) FROM ${schema}.audit) AS "auditDistinct",
            (SELECT count(*) FROM ${schema}.items) AS items`,
  );
  const r = res.rows[0];
  return { total: Number(r.total), moves: Number(r.moves), audit: Number(r.audit), auditDistinct: Number(r.auditDistinct), items: Number(r.items) };
}

/** What is wrong with a state no whole sequence of ledger transactions can produce; null when nothing is. */
export function ledgerViolation(s: LedgerState): string | null {
  if (s.auditDistinct !== s.audit) return `${s.audit - s.auditDistinct} audit rows applied twice`;
  if (s.total !== LEDGER_TOTAL) return `total ${s.total} instead of ${LEDGER_TOTAL}: half a transfer is visible`;
  if (s.moves !== 2 * s.audit) return `${s.moves} moves for ${s.audit} audit rows: part of a transaction is visible`;
  if (s.items !== s.audit) return `${s.items} items for ${s.audit} audit rows: part of a transaction is visible`;
  return null;
}

export interface Watch {
  stop(): Promise<{ samples: number; violations: string[]; last: LedgerState | null }>;
}

/**
 * Reads the ledger from PostgreSQL over and over while the replica runs:
 * every state must be one the source went through, and the replica never
 * goes back (audit rows only grow).
 */
export function watchLedger(pool: pg.Pool, schema: string): Watch {
  let running = true;
  let samples = 0;
  const violations: string[] = [];
  let last: LedgerState | null = null;
  const loop = (async () => {
    while (running) {
      const s = await ledgerState(pool, schema);
      samples++;
      let v = ledgerViolation(s);
      if (!v && last && s.audit < last.audit) v = `the replica went back from ${last.audit} to ${s.audit} transactions`;
      // a wrong state usually stays a while: each one once
      if (v && violations.length < 10 && !(last && JSON.stringify(last) === JSON.stringify(s))) {
        violations.push(`sample ${samples}: ${v} (${JSON.stringify(s)})`);
      }
      last = s;
      // leave the two cores to the agent and the servers
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  loop.catch(() => undefined);
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, violations, last };
    },
  };
}

/** Every ledger table equals MySQL's value by value, no audit row is doubled or missing. */
export async function assertLedgerExact(conn: mysql.Connection, pool: pg.Pool, schema: string, committed: number): Promise<void> {
  const tables = [
    { mysql: 'accounts', pg: `${schema}.accounts`, mysqlExprs: 'id, balance, moves', pgExprs: 'id, balance, moves', orderBy: 'id' },
    { mysql: 'items', pg: `${schema}.items`, mysqlExprs: 'id, tx, note', pgExprs: 'id, tx, note', orderBy: 'id' },
    { mysql: 'audit', pg: `${schema}.audit`, mysqlExprs: 'tx, amount', pgExprs: 'tx, amount', orderBy: 'tx, amount' },
  ];
  for (const t of tables) {
    const rows = await tableRows(conn, pool, t);
    assert.equal(rows.pg.length, rows.mysql.length, `${t.pg} has as many rows as MySQL's ${t.mysql}`);
    const diff = rows.mysql.flatMap((r, i) => (JSON.stringify(r) === JSON.stringify(rows.pg[i]) ? [] : [`row ${i}: mysql ${JSON.stringify(r)} pg ${JSON.stringify(rows.pg[i])}`]));
    assert.deepEqual(diff.slice(0, 5), [], `${t.pg} equals ${t.mysql}`);
  }
  const s = await ledgerState(pool, schema);
  assert.equal(ledgerViolation(s), null);
  assert.equal(s.audit, committed, 'one audit row per committed transaction');
}
