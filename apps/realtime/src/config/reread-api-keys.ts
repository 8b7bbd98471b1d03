import { Environment, loadConfig, readEnvironment } from "./load-config";

export type RereadApiKeys =
  | {
      ok: true;
      laravelApiKey: string | undefined;
      apiKeyHashes: string[];
      /** Key variables set in the process environment: they win over the file, so a SIGHUP cannot change them. */
      pinned: string[];
    }
  | { ok: false; problems: string[] };

const KEY_VARIABLES = ["LARAVEL_API_KEY", "WEBSOCKET_API_KEY_HASH"];

/**
 * The accepted API keys as the environment file of `cwd` now says (SIGHUP). The whole file is
 * checked as at start, so a broken edit changes nothing; only the keys are taken from it, every
 * other setting needs a restart. Problem lines name variables, never values.
 */
export function rereadApiKeys(cwd: string, processEnv: Environment): RereadApiKeys {
  const { config, problems, generated } = loadConfig(readEnvironment(cwd, processEnv));
  if (problems.length > 0) return { ok: false, problems };
  if (generated.apiKey) return { ok: false, problems: ["LARAVEL_API_KEY or WEBSOCKET_API_KEY_HASH is not set"] };
  return {
    ok: true,
    laravelApiKey: config.laravelApiKey,
    apiKeyHashes: config.apiKeyHashes,
    pinned: KEY_VARIABLES.filter((name) => processEnv[name] !== undefined && processEnv[name] !== ""),
  };
}
