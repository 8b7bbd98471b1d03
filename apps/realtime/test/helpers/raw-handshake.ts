import { request, IncomingHttpHeaders } from "node:http";
import { randomBytes } from "node:crypto";

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A bare Engine.IO handshake, to see the HTTP status a refusal gets: a polling GET, or a WebSocket
 * upgrade (101 when accepted; the upgraded socket is closed at once).
 */
export function rawHandshake(
  url: string,
  transport: "polling" | "websocket",
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const upgrade =
    transport === "websocket"
      ? {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
        }
      : {};
  return new Promise((resolve, reject) => {
    const req = request(`${url}/socket.io/?EIO=4&transport=${transport}`, { headers: { ...upgrade, ...headers } });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
