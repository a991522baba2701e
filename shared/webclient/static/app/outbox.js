// The offline outbox: a report is kept on the device (IndexedDB: the resized photo, the fields and the
// Idempotency-Key made once for the draft) until the API has answered it, and sent exactly once: the same
// key on every try, so an answer lost on the way does not file the report twice, and the entry is deleted
// only after a 2xx or a definitive refusal (which the user is told). A Web Lock keeps two tabs (or a tab
// and a reload) from sending one draft at the same time.

const DB_NAME = "civicsnap-app";
const STORE = "outbox";
const LOCK = "civicsnap-app-outbox";

/**
 * definitive tells whether an API error settles a draft for good (the API refused it as it is: a 4xx other
 * than the ones that pass — a request still in flight, a rate limit, a timeout — or an expired sign-in,
 * after which the same draft is sent again once the user signs in). Network errors and 5xx are retried.
 */
export function definitive(err) {
  if (!err || !err.status) return false;
  if (err.status < 400 || err.status >= 500) return false;
  if (err.status === 401 || err.status === 408 || err.status === 429) return false;
  if (err.status === 409 && err.code === "request_in_flight") return false;
  return true;
}

// Codes that say the uploaded photo is gone (too old: uploads are of today or yesterday): upload again.
const PHOTO_GONE = new Set(["photo_not_found", "invalid_photo_key"]);

/** reportBody is the POST /v1/reports body of a draft (its photoKey uploaded). */
export function reportBody(d) {
  const body = { category: d.category, description: d.description, location: d.location, photoKeys: [d.photoKey] };
  if (d.public === false) body.public = false;
  if (d.anonymous) body.anonymous = true;
  return body;
}

/**
 * sendDraft sends one draft: the photo first when it has no upload key yet (the key is saved with the
 * draft at once, so a retry does not upload again), then the report with the draft's Idempotency-Key.
 * deps: upload(blob) → key, createReport(body, idempotencyKey) → report, save(draft). Resolves to
 * {outcome: "sent", report} | {outcome: "refused", error} | {outcome: "kept", error}.
 */
export async function sendDraft(draft, { upload, createReport, save }) {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      if (!draft.photoKey) {
        draft.photoKey = await upload(draft.photo);
        await save(draft);
      }
      const report = await createReport(reportBody(draft), draft.idempotencyKey);
      return { outcome: "sent", report };
    } catch (error) {
      // A refused photo key wrote nothing: upload the photo again once, with the same Idempotency-Key.
      if (attempt === 0 && draft.photoKey && PHOTO_GONE.has(error.code)) {
        draft.photoKey = null;
        await save(draft);
        continue;
      }
      return { outcome: definitive(error) ? "refused" : "kept", error };
    }
  }
  return { outcome: "kept", error: new Error("unreachable") };
}

function request(r) {
  return new Promise((ok, fail) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
}

/** Outbox is the IndexedDB store of drafts waiting to be sent. */
export class Outbox {
  constructor(name = DB_NAME) {
    this.name = name;
    this.db = null;
  }

  async open() {
    if (!this.db) {
      const r = indexedDB.open(this.name, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: "id" });
      this.db = await request(r);
    }
    return this.db;
  }

  async tx(mode, fn) {
    const db = await this.open();
    const t = db.transaction(STORE, mode);
    const result = await request(fn(t.objectStore(STORE)));
    await new Promise((ok, fail) => { t.oncomplete = ok; t.onerror = () => fail(t.error); t.onabort = () => fail(t.error); });
    return result;
  }

  /**
   * all lists the drafts, oldest first: those of user sub when one is given (a phone shared by two
   * citizens sends each one's reports under their own sign-in only).
   */
  async all(sub) {
    const items = await this.tx("readonly", (s) => s.getAll());
    return items.filter((d) => !sub || d.sub === sub).sort((a, b) => a.createdAt - b.createdAt);
  }

  put(draft) { return this.tx("readwrite", (s) => s.put(draft)); }

  delete(id) { return this.tx("readwrite", (s) => s.delete(id)); }

  /**
   * flush sends user sub's drafts, oldest first, under a lock: onSent(draft, report) and onRefused(draft,
   * error) after each settled one (already deleted), onKept(draft, error) for the one it stops at (no
   * connection, the API unwell, the sign-in expired). Resolves to the number of the user's drafts waiting.
   */
  async flush(sub, deps, { onSent = () => {}, onRefused = () => {}, onKept = () => {} } = {}) {
    const run = async () => {
      for (const draft of await this.all(sub)) {
        if (typeof navigator !== "undefined" && navigator.onLine === false) break;
        const r = await sendDraft(draft, { ...deps, save: (d) => this.put(d) });
        if (r.outcome === "sent") {
          await this.delete(draft.id);
          onSent(draft, r.report);
        } else if (r.outcome === "refused") {
          await this.delete(draft.id);
          onRefused(draft, r.error);
        } else {
          onKept(draft, r.error);
          break; // no connection (or the API is unwell): try again on the next online event or start
        }
      }
      return (await this.all(sub)).length;
    };
    if (typeof navigator !== "undefined" && navigator.locks) return navigator.locks.request(LOCK, run);
    return run();
  }
}
