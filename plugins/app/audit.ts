/**
 * The audit trail: one row per security event, written by the store inside
 * the same transaction as the change it records, and one info log line with
 * the same fields once that transaction has committed (docs/CONTRACT.md §5).
 */
import fp from 'fastify-plugin'
import type { FastifyBaseLogger } from 'fastify'
import { iso } from '../../lib/time.js'
import type { AuditEvent, EventType } from '../../lib/domain.js'

export interface EventView {
  type: EventType
  at: string
  sessionId: string | null
  ip: string | null
  userAgent: string | null
}

export interface AuditTrail {
  /** The log line; call after the write has committed. */
  log (log: FastifyBaseLogger, events: AuditEvent[]): void
  recent (userId: string, limit?: number): Promise<EventView[]>
}

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditTrail
  }
}

export default fp(async function audit (fastify) {
  const { store } = fastify
  fastify.decorate('audit', {
    log (log: FastifyBaseLogger, events: AuditEvent[]) {
      for (const event of events) log.info({ audit: { ...event, at: iso(event.at) } }, `audit ${event.type}`)
    },
    async recent (userId: string, limit = 50) {
      return (await store.recentEvents(userId, limit)).map((row) => ({ ...row, at: iso(row.at) }))
    }
  })
}, { name: 'audit', dependencies: ['store'] })
