/** A webhook receiver on 127.0.0.1 for the notify tests: every POSTed JSON body, in arrival order. */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Receiver<T> {
  url: string;
  received: T[];
  close(): Promise<void>;
}

export async function startReceiver<T>(): Promise<Receiver<T>> {
  const received: T[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      received.push(JSON.parse(body) as T);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
