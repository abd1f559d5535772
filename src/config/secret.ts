import { inspect } from 'node:util';

/**
 * A configured secret (a database password, an OIDC client secret). It prints
 * as `********` everywhere (logs, JSON, util.inspect); only `reveal()` gives the value.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The real value: call it only where the secret is used, never to log. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '********';
  }
  toJSON(): string {
    return '********';
  }
  [inspect.custom](): string {
    return 'Secret(********)';
  }
}
