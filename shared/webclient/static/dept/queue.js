// The department's queue across statuses. The API pages each status's queue on its own, earliest SLA
// deadline first (GET /v1/dept/reports?status=…); the workbench shows them as one list in that order, so
// it merges the pages: an item is shown only once every status that may still hold an earlier one has a
// page read past it. "Load more" reads the next page of the statuses that ran out.

/** byUrgency orders queue items: earliest SLA deadline first (so overdue ones lead), then more "me too"s. */
export function byUrgency(a, b) {
  const d = Date.parse(a.slaDeadline) - Date.parse(b.slaDeadline);
  if (d) return d;
  const m = (b.meToo || 0) - (a.meToo || 0);
  if (m) return m;
  return a.reportId < b.reportId ? -1 : a.reportId > b.reportId ? 1 : 0;
}

/** isOverdue: the sweep marked it, or its deadline has passed (the sweep runs every 15 minutes). */
export function isOverdue(item, now = Date.now()) {
  return !!item.overdue || Date.parse(item.slaDeadline) <= now;
}

/**
 * MergedQueue reads several statuses' queues through fetchPage(status, cursor) → {items, nextCursor} and
 * yields their items in one order (byUrgency), each report once.
 */
export class MergedQueue {
  constructor(statuses, fetchPage) {
    this.fetchPage = fetchPage;
    this.lanes = statuses.map((status) => ({ status, buf: [], cursor: "", done: false }));
    this.shown = [];
    this.seen = new Set();
  }

  /** hasMore: some status has items not shown yet or pages not read. */
  get hasMore() {
    return this.lanes.some((l) => !l.done || l.buf.length > 0);
  }

  /** more reads the next page of every status that needs one and returns the items it can now show, in order. */
  async more() {
    const need = this.lanes.filter((l) => !l.done && l.buf.length === 0);
    const pages = await Promise.all(need.map((l) => this.fetchPage(l.status, l.cursor)));
    need.forEach((l, i) => {
      const p = pages[i] || {};
      l.buf.push(...(p.items || []));
      l.buf.sort(byUrgency);
      l.cursor = p.nextCursor || "";
      l.done = !l.cursor;
    });
    const out = [];
    for (;;) {
      // An empty status with pages left could hold an earlier item: stop until it is read.
      if (this.lanes.some((l) => !l.done && l.buf.length === 0)) break;
      let best = null;
      for (const l of this.lanes) {
        if (l.buf.length && (!best || byUrgency(l.buf[0], best.buf[0]) < 0)) best = l;
      }
      if (!best) break;
      const item = best.buf.shift();
      if (this.seen.has(item.reportId)) continue; // it changed status between two pages
      this.seen.add(item.reportId);
      out.push(item);
    }
    this.shown.push(...out);
    return out;
  }
}
