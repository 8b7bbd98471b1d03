/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/src", "<rootDir>/test"],
  transform: { "^.+\\.ts$": "ts-jest" },
  moduleNameMapper: { "^@mechamap/protocol$": "<rootDir>/../../packages/protocol/src" },
  testTimeout: 20000,
};
