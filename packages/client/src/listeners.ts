/** A listener of any signature (`never[]` admits them all); each event is emitted with its listeners' arguments. */
type AnyListener = (...args: never[]) => void;

/** Listeners by event name. A listener that throws is reported and does not stop the others. */
export class Listeners {
  private readonly byEvent = new Map<string, Set<AnyListener>>();

  add(event: string, listener: AnyListener): void {
    let set = this.byEvent.get(event);
    if (!set) this.byEvent.set(event, (set = new Set()));
    set.add(listener);
  }

  /** Without `listener`: every listener of `event`. */
  remove(event: string, listener?: AnyListener): void {
    if (listener) this.byEvent.get(event)?.delete(listener);
    else this.byEvent.delete(event);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.byEvent.get(event) ?? [])]) {
      try {
        (listener as (...args: unknown[]) => void)(...args);
      } catch (error) {
        report(error);
      }
    }
  }
}

/** As an uncaught error would be (the console, `window.onerror`), without losing the next event. */
function report(error: unknown): void {
  const reportError = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (reportError) reportError(error);
  else
    setTimeout(() => {
      throw error;
    });
}
