/**
 * The sleep of a background loop (the relay, a projector) between rounds: a kick (a commit of
 * this process) cuts a kickable sleep short, and one that comes while the loop is awake is kept
 * for its next sleep; an interrupt (stopping, a lost leadership) cuts any sleep short.
 */
export class LoopSleeper {
  private kicked = false;
  private wake?: (kick: boolean) => void;

  /** Sleeps for `ms`, or less when interrupted, or (if `kickable`) when kicked. */
  sleep(ms: number, kickable: boolean): Promise<void> {
    if (kickable && this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = (kick) => {
        if (kick && !kickable) return;
        if (kick) this.kicked = false;
        done();
      };
    });
  }

  kick(): void {
    this.kicked = true;
    this.wake?.(true);
  }

  interrupt(): void {
    this.wake?.(false);
  }
}
