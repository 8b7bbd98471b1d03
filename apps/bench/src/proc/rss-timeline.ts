import { nowUs } from "../load/clock";
import { rssBytes } from "./proc-stats";

export interface RssSample {
  /** Shared monotonic clock, µs. */
  atUs: number;
  /** Sum over the pids; 0 once they are all gone. */
  bytes: number;
}

/** Samples the summed RSS of `pids` every `everyMs` until stopped; returns every sample, in order. */
export function rssTimeline(pids: number[], everyMs = 200): { stop(): RssSample[] } {
  const samples: RssSample[] = [];
  const sample = (): void => {
    samples.push({ atUs: nowUs(), bytes: pids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0) });
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return samples;
    },
  };
}

/** Highest sample taken in [fromUs, untilUs); 0 if none. */
export function peakBetween(samples: RssSample[], fromUs: number, untilUs: number): number {
  return samples.reduce((peak, s) => (s.atUs >= fromUs && s.atUs < untilUs ? Math.max(peak, s.bytes) : peak), 0);
}
