// Read at run time so the build needs no JSON import outside rootDir.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const VERSION: string = (require("../package.json") as { version: string }).version;
