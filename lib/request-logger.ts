/**
 * Fastify's per-request logger, made only when a line is written. Fastify
 * calls `logger.child({ reqId })` for every request, and pino runs the
 * child's bindings through the redaction (~2.5% of a /me request), even at
 * LOG_LEVEL=warn when most requests never write a line. While the level is
 * above `info`, the request gets a stand-in that makes the real child, with
 * the same bindings and options, on its first line at an enabled level; so
 * an error or warning still carries the request id.
 * @see https://fastify.dev/docs/latest/Reference/Server/#childloggerfactory
 */
import type { FastifyBaseLogger } from 'fastify'

type Bindings = Parameters<FastifyBaseLogger['child']>[0]
type ChildLoggerOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

const VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity }

/** Whether `logger` writes lines at `level`; an unknown level counts as everything enabled. */
const enabled = (logger: FastifyBaseLogger, level: Level): boolean => (VALUES[logger.level] ?? 0) <= VALUES[level]!

class LazyChild implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  readonly #options: ChildLoggerOptions
  #child: FastifyBaseLogger | undefined

  constructor (parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  #real (): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options)
    return this.#child
  }

  /** The real child for a line at `level`, or undefined when no line would be written. */
  #for (level: Level): FastifyBaseLogger | undefined {
    return this.#child !== undefined || enabled(this.#parent, level) ? this.#real() : undefined
  }

  get level (): string {
    return (this.#child ?? this.#parent).level
  }

  set level (level: string) {
    this.#real().level = level
  }

  // Prototype methods, not arrow properties: nothing allocated per request.
  fatal (...args: [any, ...any[]]): void { this.#for('fatal')?.fatal(...args) }
  error (...args: [any, ...any[]]): void { this.#for('error')?.error(...args) }
  warn (...args: [any, ...any[]]): void { this.#for('warn')?.warn(...args) }
  info (...args: [any, ...any[]]): void { this.#for('info')?.info(...args) }
  debug (...args: [any, ...any[]]): void { this.#for('debug')?.debug(...args) }
  trace (...args: [any, ...any[]]): void { this.#for('trace')?.trace(...args) }
  silent (): void {}

  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options)
  }
}

/** The `childLoggerFactory` server option. */
export function requestLogger (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  // A route's own log level is a new level for the child: made at once, as Fastify would.
  if (enabled(logger, 'info') || options.level !== undefined) return logger.child(bindings, options)
  return new LazyChild(logger, bindings, options)
}
