import { get } from "node:http";

/** A small GET returning parsed JSON; the harness's only HTTP reads of a target (echo's API). */
export function getJson<T>(url: string, timeoutMs = 2000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.once("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: ${res.statusCode} ${text.slice(0, 200)}`));
        try {
          resolve(JSON.parse(text) as T);
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    req.once("timeout", () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.once("error", reject);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
