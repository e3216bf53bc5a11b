import t from 'tap'
import type { FastifyRequest } from 'fastify'
import { requestMeta } from '../../lib/request-meta.js'

t.test('no User-Agent header is null', async (t) => {
  t.strictSame(requestMeta({ ip: '192.0.2.1', headers: {} } as FastifyRequest), { ip: '192.0.2.1', userAgent: null })
  t.strictSame(requestMeta({ ip: '192.0.2.1', headers: { 'user-agent': 'ua' } } as FastifyRequest), { ip: '192.0.2.1', userAgent: 'ua' })
})
