/** How a deploy reads on a terminal: the change set as a table, stack events as an activity log. */
import {renderTable} from '../ui/table.js'
import type {ChangeRow, StackEventLine} from './stack.js'

const ORDER: Record<ChangeRow['change'], number> = {
  added: 0,
  modified: 1,
  'may be replaced': 2,
  replaced: 3,
  removed: 4,
  imported: 5,
  dynamic: 6,
}

export function changeTable(rows: ChangeRow[]): string {
  const sorted = [...rows].sort((a, b) => ORDER[a.change] - ORDER[b.change] || a.logicalId.localeCompare(b.logicalId))
  const counts = Object.entries(
    sorted.reduce<Record<string, number>>((acc, row) => {
      acc[row.change] = (acc[row.change] ?? 0) + 1
      return acc
    }, {}),
  )
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ')
  const table = renderTable(
    ['change', 'resource', 'type', 'because of'],
    sorted.map((r) => [r.change, r.stack ? `${r.stack}/${r.logicalId}` : r.logicalId, r.type, r.properties.join(', ')]),
  )
  return `${table}\n${counts}`
}

export function eventLine(e: StackEventLine): string {
  const time = e.time.slice(11, 19)
  return `${time}  ${e.status.padEnd(28)} ${e.type.padEnd(34)} ${e.stack === e.logicalId ? e.logicalId : `${e.logicalId}`}${e.reason ? `  ${e.reason}` : ''}`
}
