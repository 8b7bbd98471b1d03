/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true }] },
  moduleNameMapper: { "^@mechamap/protocol$": "<rootDir>/../../packages/protocol/src" },
  // The quick scenario starts four servers (and Redis) one after the other: ~25 s on 2 cores.
  testTimeout: 90000,
};
