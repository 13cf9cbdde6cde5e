/**
 * EC2 answers are built with the SDK's member names (ReservationId, State, …) and
 * put on the wire with EC2-Query's element names (reservationId, instanceState, …)
 * from the shapes generated out of botocore's model (wire-shapes.ts).
 */
import {OUTPUTS, SHAPES} from './wire-shapes.js'

function convert(value: Record<string, unknown>, shapeName: string): Record<string, unknown> {
  const shape = SHAPES[shapeName]
  if (!shape) throw new Error(`EC2 wire: no shape ${shapeName}`)
  const out: Record<string, unknown> = {}
  for (const key in value) {
    const member = value[key]
    if (member === undefined) continue
    const wire = shape[key]
    if (!wire) throw new Error(`EC2 wire: ${shapeName} has no member ${key}`)
    if (wire[1] === 'o') out[wire[0]] = convert(member as Record<string, unknown>, wire[2])
    else if (wire[1] === 'l') {
      const items = member as unknown[]
      out[wire[0]] = wire[2] ? items.map((item) => convert(item as Record<string, unknown>, wire[2])) : items
    } else out[wire[0]] = member
  }
  return out
}

/** An operation's result, renamed to the wire's element names. */
export function toWire(action: string, result: Record<string, unknown>): Record<string, unknown> {
  const shape = OUTPUTS[action]
  if (!shape) return {}
  return convert(result, shape)
}
