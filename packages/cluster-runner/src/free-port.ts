import { createServer } from "node:net";

/**
 * A port that was free a moment ago on `host`. For programs that cannot report the port they got
 * from port 0 (nginx, redis-server); the callers retry on the rare "address in use".
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}
