import net from 'node:net';

/**
 * Asks the kernel for an unused TCP port on the loopback interface.
 * There is an unavoidable window between closing our probe socket and the
 * server binding the port; callers that start servers retry on EADDRINUSE-like
 * startup failures rather than trying to close that window here.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      const { port } = addr;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
