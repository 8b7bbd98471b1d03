import winston from "winston";

export type Logger = winston.Logger;

export interface LoggerOptions {
  nodeId: string;
  level: string;
  format: "json" | "pretty";
  /** Where lines go; stdout unless a test passes its own stream. */
  stream?: NodeJS.WritableStream;
}

/** winston's `message` is written as `msg`, next to `node` and `level`, one JSON object per line. */
const renameMessage = winston.format((info) => {
  const record = info as Record<string, unknown>;
  record.msg = record.message;
  delete record.message;
  return info;
});

export function createLogger(options: LoggerOptions): Logger {
  const format =
    options.format === "json"
      ? winston.format.combine(winston.format.timestamp(), renameMessage(), winston.format.json())
      : winston.format.combine(winston.format.timestamp(), winston.format.colorize(), winston.format.simple());
  return winston.createLogger({
    level: options.level,
    defaultMeta: { node: options.nodeId },
    format,
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stdout })],
  });
}

/** Writes nothing: for work the node does to itself (the warm-up), which must leave no trace. */
export function createSilentLogger(): Logger {
  return winston.createLogger({ silent: true });
}

export function errorDetail(error: unknown): Record<string, string | undefined> {
  return error instanceof Error ? { error: error.message, stack: error.stack } : { error: String(error) };
}
