/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/src", "<rootDir>/test"],
  transform: { "^.+\\.ts$": "ts-jest" },
  moduleNameMapper: { "^@mechamap/protocol$": "<rootDir>/../../packages/protocol/src" },
  // Integration tests start real processes (nodes, nginx); each waits for events, never sleeps.
  testTimeout: 30000,
};
