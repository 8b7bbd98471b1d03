export * from "./channels";
export * from "./echo";
export * from "./errors";
export * from "./events";
export * from "./offsets";
