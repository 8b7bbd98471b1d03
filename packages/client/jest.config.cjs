/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/src", "<rootDir>/test"],
  // The sources are ES modules with `.js` import specifiers; jest runs them as CommonJS.
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: { module: "commonjs", moduleResolution: "node", lib: ["ES2022", "DOM"] } }],
  },
  moduleNameMapper: {
    "^@mechamap/protocol$": "<rootDir>/../protocol/src",
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  // Tests start real nodes (apps/realtime/dist/main.js) and a real Chromium; they await events, never sleep.
  testTimeout: 30000,
};
