import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, Histogram } from "hdr-histogram-js";

/** Latencies in µs, 1 µs to 10 min, 3 significant digits; the pure-JS build (no wasm startup). */
export function newHistogram(): Histogram {
  return build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

export const encodeHistogram = (histogram: Histogram): string => encodeIntoCompressedBase64(histogram);

export function mergeHistograms(encoded: string[]): Histogram {
  const total = newHistogram();
  for (const text of encoded) total.add(decodeFromCompressedBase64(text, 32, false));
  return total;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

export function percentiles(histogram: Histogram): Percentiles {
  return {
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
    count: histogram.totalCount,
  };
}
