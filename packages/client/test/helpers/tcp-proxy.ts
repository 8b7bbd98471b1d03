import { createServer, connect, Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface TcpProxy {
  url: string;
  /** Cuts every connection and refuses new ones (closed at once) until `up()`. */
  down(): void;
  up(): void;
  /** Sends new connections to another port from now on (a load balancer picking another node). */
  retarget(port: number): void;
  close(): Promise<void>;
}

const proxies = new Set<TcpProxy>();
afterEach(async () => {
  await Promise.all([...proxies].map((proxy) => proxy.close()));
});

/** A TCP proxy to a local port that the test can cut, as a flaky network would. */
export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepting = true;
  let target = targetPort;
  const server = createServer((downstream) => {
    if (!accepting) return void downstream.destroy();
    const upstream = connect(target, "127.0.0.1");
    open.add(downstream).add(upstream);
    const close = () => {
      downstream.destroy();
      upstream.destroy();
      open.delete(downstream);
      open.delete(upstream);
    };
    for (const socket of [downstream, upstream]) socket.on("error", close).on("close", close);
    downstream.pipe(upstream).pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxy: TcpProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    down() {
      accepting = false;
      for (const socket of open) socket.destroy();
    },
    up() {
      accepting = true;
    },
    retarget(port) {
      target = port;
    },
    close() {
      proxies.delete(proxy);
      proxy.down();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  proxies.add(proxy);
  return proxy;
}
