import { deepStrictEqual, fail } from 'node:assert/strict';
import type { Decider, DomainEvent } from './types';

/**
 * given(events) / when(command) / then(events | error) for pure deciders.
 *
 *   const spec = deciderSpec(conferenceDecider);
 *   spec.given([created]).when(join).then([joined]);
 *   spec.given([]).when(join).thenFails({ code: 'NOT_FOUND' });
 *
 * Uses node:assert, so it runs under any test runner.
 */
export function deciderSpec<C, E extends DomainEvent, S>(decider: Decider<C, E, S>) {
  return {
    given(events: E[]) {
      const state = events.reduce(decider.evolve, decider.initialState());
      return {
        state,
        when(command: C) {
          let outcome: { events: E[] } | { error: unknown };
          try {
            outcome = { events: decider.decide(command, state) };
          } catch (error) {
            outcome = { error };
          }
          return {
            /** The command succeeds with exactly these events. Returns the state after them. */
            then(expected: E[]): S {
              if ('error' in outcome) fail(`expected events, got error: ${String(outcome.error)}`);
              deepStrictEqual(outcome.events, expected);
              return outcome.events.reduce(decider.evolve, state);
            },
            /** The command is rejected with an error having these properties (e.g. code, message). */
            thenFails(expected: Record<string, unknown | RegExp>): void {
              if (!('error' in outcome)) fail(`expected an error, got events: ${JSON.stringify(outcome.events)}`);
              const error = outcome.error as Record<string, unknown>;
              for (const [k, v] of Object.entries(expected)) {
                if (v instanceof RegExp) {
                  if (!v.test(String(error[k]))) fail(`error.${k} "${String(error[k])}" does not match ${v}`);
                } else deepStrictEqual(error[k], v, `error.${k}`);
              }
            },
          };
        },
      };
    },
  };
}
