// The department's queue as the workbench pages it: GET /v1/dept/reports?status=… answers one page at a
// time, earliest SLA deadline first; status=open is every open status in one list (the department's open
// partition, each item with its own status). "Load more" reads the next page.

/** isOverdue: the sweep marked it, or its deadline has passed (the sweep runs every 15 minutes). */
export function isOverdue(item, now = Date.now()) {
  return !!item.overdue || Date.parse(item.slaDeadline) <= now;
}

/**
 * QueuePager reads a queue through fetchPage(cursor) → {items, nextCursor} and yields each report once: a
 * report reopened while the list is read comes back under its new deadline on a later page.
 */
export class QueuePager {
  constructor(fetchPage) {
    this.fetchPage = fetchPage;
    this.cursor = "";
    this.done = false;
    this.shown = [];
    this.seen = new Set();
  }

  /** hasMore: pages are left to read. */
  get hasMore() {
    return !this.done;
  }

  /** more reads the next page and returns its reports not shown yet, in the API's order. */
  async more() {
    if (this.done) return [];
    const page = (await this.fetchPage(this.cursor)) || {};
    this.cursor = page.nextCursor || "";
    this.done = !this.cursor;
    const out = (page.items || []).filter((it) => !this.seen.has(it.reportId));
    for (const it of out) this.seen.add(it.reportId);
    this.shown.push(...out);
    return out;
  }
}
