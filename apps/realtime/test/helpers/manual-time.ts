import type { Cancel, Clock, Scheduler } from "../../src/core/ports";

interface Task {
  at: number;
  every: number | null;
  run: () => unknown;
}

/**
 * Time that moves only when a test says so: the node's clock and scheduler in one. Starts at the
 * real time, so that tokens signed by jsonwebtoken (real `iat`/`exp`) mean what they say.
 */
export class ManualTime implements Clock, Scheduler {
  private current = Date.now();
  private readonly tasks = new Set<Task>();

  now(): number {
    return this.current;
  }

  after(ms: number, run: () => unknown): Cancel {
    return this.add({ at: this.current + ms, every: null, run });
  }

  every(ms: number, run: () => unknown): Cancel {
    return this.add({ at: this.current + ms, every: ms, run });
  }

  /**
   * Moves time forward by `ms`, running every task that falls due in between at its own time, in
   * time order, and awaiting what each returns (a presence sweep, say) before the next.
   */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (let task = this.next(end); task; task = this.next(end)) {
      this.current = task.at;
      if (task.every === null) this.tasks.delete(task);
      else task.at += task.every;
      await task.run();
    }
    this.current = end;
  }

  private next(end: number): Task | undefined {
    let earliest: Task | undefined;
    for (const task of this.tasks) if (task.at <= end && (!earliest || task.at < earliest.at)) earliest = task;
    return earliest;
  }

  private add(task: Task): Cancel {
    this.tasks.add(task);
    return () => void this.tasks.delete(task);
  }
}
