/**
 * Monotonic microseconds from CLOCK_MONOTONIC, which every process on the host shares: the
 * publisher's stamp and a worker's receive time are comparable across processes.
 */
export const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;
