/**
 * The bytes of recently written or read small objects, by data file path, least
 * recently used evicted first. Data files are immutable (a new version gets a new
 * file), so an entry can never go stale; it is dropped when its file is removed.
 * A hit answers a GET without touching the disk: on small objects the open, read
 * and close cost more than everything else a GET does.
 */
/** What an entry costs beyond its bytes (Buffer, backing store and Map slot), roughly. */
const ENTRY_OVERHEAD = 256

export class SmallObjectCache {
  private readonly entries = new Map<string, Buffer>()
  private bytes = 0

  constructor(
    /** Objects larger than this are never cached. */
    readonly maxObjectBytes = 64 * 1024,
    /** Total bytes held, at most, counting ENTRY_OVERHEAD per entry (kept small: it is resident memory). */
    readonly budgetBytes = 8 * 1024 * 1024,
  ) {}

  get(path: string): Buffer | undefined {
    const bytes = this.entries.get(path)
    if (bytes) {
      // Re-inserting moves the entry to the young end of the Map's order.
      this.entries.delete(path)
      this.entries.set(path, bytes)
    }
    return bytes
  }

  /** Keeps `bytes` (which must not be changed afterwards) when small enough. */
  set(path: string, bytes: Buffer): void {
    if (bytes.length > this.maxObjectBytes) return
    this.delete(path)
    this.entries.set(path, bytes)
    this.bytes += bytes.length + ENTRY_OVERHEAD
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.budgetBytes) break
      this.entries.delete(oldest)
      this.bytes -= old.length + ENTRY_OVERHEAD
    }
  }

  delete(path: string): void {
    const bytes = this.entries.get(path)
    if (!bytes) return
    this.entries.delete(path)
    this.bytes -= bytes.length + ENTRY_OVERHEAD
  }
}
