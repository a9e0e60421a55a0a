import type { EventMetadata } from './types';

/**
 * Turns the stored shape of one event type at one schema version into a newer shape.
 * Old events are never rewritten in the store; they are upcast each time they are read,
 * so old and new shapes live side by side and the domain only sees the newest.
 */
export interface Upcaster {
  type: string;
  fromSchemaVersion: number;
  upcast(data: unknown, metadata: EventMetadata): { schemaVersion: number; data: unknown };
}

/** The parts of an event an upcaster looks at; RecordedEvent has them all. */
export interface UpcastableEvent {
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: EventMetadata;
}

const key = (type: string, schemaVersion: number) => `${schemaVersion}:${type}`;

export class UpcasterRegistry {
  private readonly upcasters = new Map<string, Upcaster>();

  constructor(upcasters: Upcaster[] = []) {
    this.register(...upcasters);
  }

  /** Adds upcasters. Two for the same type and version would make reads ambiguous, so that throws. */
  register(...upcasters: Upcaster[]): this {
    for (const upcaster of upcasters) {
      const k = key(upcaster.type, upcaster.fromSchemaVersion);
      if (this.upcasters.has(k)) {
        throw new Error(`an upcaster for ${upcaster.type} v${upcaster.fromSchemaVersion} is already registered`);
      }
      this.upcasters.set(k, upcaster);
    }
    return this;
  }

  /**
   * Applies upcasters one after another (v1 → v2 → v3 …) until none applies to the current
   * version. Returns the same object when nothing applies, a copy otherwise.
   */
  upcast<E extends UpcastableEvent>(event: E): E {
    let current = event;
    for (let upcaster = this.find(current); upcaster; upcaster = this.find(current)) {
      const next = upcaster.upcast(current.data, current.metadata);
      // A version that does not grow would loop for ever (or silently go backwards).
      if (!Number.isInteger(next.schemaVersion) || next.schemaVersion <= current.schemaVersion) {
        throw new Error(
          `upcaster for ${current.type} v${current.schemaVersion} returned schema version ${next.schemaVersion}; it must be greater`,
        );
      }
      current = { ...current, schemaVersion: next.schemaVersion, data: next.data };
    }
    return current;
  }

  private find(event: UpcastableEvent): Upcaster | undefined {
    return this.upcasters.get(key(event.type, event.schemaVersion));
  }
}
