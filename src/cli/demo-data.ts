/** The demo's sample database: a small shop. */
export const DEMO_SCHEMA = [
  `CREATE TABLE customers (
     id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
     name VARCHAR(100) NOT NULL,
     email VARCHAR(200) NOT NULL UNIQUE,
     created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
   ) COMMENT 'people who buy things'`,
  `CREATE TABLE products (
     sku CHAR(8) PRIMARY KEY,
     title VARCHAR(200) NOT NULL,
     price DECIMAL(10,2) NOT NULL,
     stock INT NOT NULL DEFAULT 0,
     tags SET('new','sale','gift') NOT NULL DEFAULT ''
   )`,
  `CREATE TABLE orders (
     id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
     customer_id INT UNSIGNED NOT NULL,
     sku CHAR(8) NOT NULL,
     qty SMALLINT NOT NULL,
     status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new',
     note TEXT NULL,
     KEY orders_customer (customer_id)
   )`,
];

export function demoRows(): string[] {
  const names = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Edsger', 'Frances', 'Donald', 'Radia'];
  const out: string[] = [];
  out.push(
    `INSERT INTO customers (name, email) VALUES ${names.map((n) => `('${n}', '${n.toLowerCase()}@example.com')`).join(', ')}`,
  );
  const products = Array.from({ length: 20 }, (_, i) => `('SKU${String(i).padStart(5, '0')}', 'Product ${i} ☕', ${(i * 3.17 + 1).toFixed(2)}, ${100 - i}, '${i % 3 === 0 ? 'new' : i % 3 === 1 ? 'sale,gift' : ''}')`);
  out.push(`INSERT INTO products (sku, title, price, stock, tags) VALUES ${products.join(', ')}`);
  const orders = Array.from({ length: 200 }, (_, i) => `(${(i % 10) + 1}, 'SKU${String(i % 20).padStart(5, '0')}', ${(i % 4) + 1}, '${['new', 'paid', 'shipped'][i % 3]}', ${i % 7 === 0 ? "'gift wrap'" : 'NULL'})`);
  out.push(`INSERT INTO orders (customer_id, sku, qty, status, note) VALUES ${orders.join(', ')}`);
  return out;
}
