/**
 * The audit trail: one row per security event, written inside the same
 * transaction as the change it records (lib/write-ops.ts), and one info log line with the same
 * fields once that transaction has committed.
 * @see ../shared/SPEC.md §5
 */
import fp from 'fastify-plugin'
import type { FastifyBaseLogger } from 'fastify'
import { iso } from '../../lib/time.js'

import type { AuditEvent, EventType } from '../../lib/write-ops.js'

export type { AuditEvent, EventType }

export interface EventView {
  type: EventType
  at: string
  sessionId: string | null
  ip: string | null
  userAgent: string | null
}

export interface AuditTrail {
  /** The log line; call after the job has committed. */
  log (log: FastifyBaseLogger, events: AuditEvent[]): void
  recent (userId: string, limit?: number): EventView[]
}

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditTrail
  }
}

export default fp(async function audit (fastify) {
  const { db } = fastify
  const recentRows = db.prepare<[string, number], Omit<EventView, 'at'> & { at: number }>(`SELECT type, at,
    session_id AS sessionId, ip, user_agent AS userAgent
    FROM audit_events WHERE user_id = ? ORDER BY id DESC LIMIT ?`)

  fastify.decorate('audit', {
    log (log: FastifyBaseLogger, events: AuditEvent[]) {
      for (const event of events) log.info({ audit: { ...event, at: iso(event.at) } }, `audit ${event.type}`)
    },
    recent (userId: string, limit = 50) {
      return recentRows.all(userId, limit).map((row) => ({ ...row, at: iso(row.at) }))
    }
  })
}, { name: 'audit', dependencies: ['db'] })
