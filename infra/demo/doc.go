// Package demo loads a realistic month of a city into a running local stack through its HTTP API:
// `make demo` against `make run` (scaled-down Mengzi proportions — about 600 reports over 30 days from
// 150 citizens), and `make scale` (infra/scale: a month of Mengzi at full size) reuse its planner and
// replay. Across the ten categories and the seeded areas: some duplicates, some invalid, a few sent back
// as "not ours", some resolved late and escalated, most resolved, points redeemed for goods, donations
// and credit at Mengzi's share of points issued.
//
// # How a month of history is made
//
// The functions stamp every write with their clock, and the KPIs are rolled up by local day from those
// stamps (creation day, resolution day, ledger day, redemption day), so history cannot be made by calling
// today's API thirty times, and rewriting timestamps in the table afterwards would bypass the code that
// derives index keys, deadlines, overdue flags and points from them. Driving the domain services in this
// process with an injected clock is not enough either: the stack's own stream consumers react to every
// new report at once, with the wall clock, and would race the loader's dispatch.
//
// So the loader moves the local stack's clock instead. The local runner gives its functions a settable
// clock (POST /_local/clock {"now":…}; tokens, moto and the pumps keep wall time) and a way to wait for its
// pumps (POST /_local/drain; ?scope=streams for the table's stream consumers only). Nothing else is
// special: every write goes through the same handlers, stream consumers and conditional writes as in
// AWS, only at the month's moments.
//
// The loader plans the month deterministically (seeded RNG; NewPlan), on a grid of moments: two per
// slot of the month's clock (an hour by default) — its start, when citizens register and file reports
// and the sweeper runs, and its middle, when departments act, admins revoke and citizens redeem. It then
// replays the plan moment by moment (Replay): it sets the stack's clock to the moment, runs the moment's
// actions — chains of one citizen's registration and reports, of one report's department actions, of one
// redemption and its pickup, each chain in order, the chains concurrently with a bounded number of
// workers — and waits for the stream consumers, so that dispatch has routed a report (or linked it as a
// duplicate) before its department acts, and accrual has paid an award before its points are spent:
//   - a citizen registers (GET /v1/me), uploads a photo with the presigned POST and files a report
//     (POST /v1/reports); the real dispatch stream consumer routes it at that moment;
//   - departments act as they would: systems with a webhook send signed callbacks
//     (POST /v1/departments/{dept}/events, proof photos through /v1/departments/{dept}/uploads), housing
//     and the command center use the staff API; the real accrual consumer then awards points from the
//     stored resolution time;
//   - the sweeper runs every three hours of the month (POST /_local/schedules/SweeperFunction), so late
//     cases are escalated (督办) when they fall due;
//   - citizens redeem (POST /v1/redemptions), clerks hand goods over (…/fulfil), a few cancel; an admin
//     revokes a few resolutions.
//
// Every outcome that hangs on time is decided on the plan's moments with room to spare (Plan, Verify):
// the seconds a moment takes to replay cannot make an on-time resolution late, move an event to another
// day, or change the hours from filing to resolution the KPI medians are made of. So the KPI summary the
// stack computes must equal the plan's own (Plan.Expected runs the KPI package's roll-up over what the
// plan makes the stack write), figure by figure, and the summary prints both.
//
// Events planned after the wall clock have not happened yet and are left out, so the newest reports are
// still open, as in a real city. At the end the clock is reset, the pumps drained and the KPI roll-up
// backfilled for the month, a day at a time (POST /_local/schedules/KpiFunction {"from","to"}).
//
// # Retries
//
// Every request is sent through a Client that retries 5xx, 408, 429 (honouring Retry-After), a 409
// request_in_flight, timeouts and dropped connections with exponential backoff and jitter, within a
// bounded number of attempts and time (RetryPolicy), so a failure a retry would mend never stops a run.
// Creations carry an Idempotency-Key and callbacks a webhook-id, so a re-sent request is answered, not
// applied twice; the routes without either (staff transitions, revocation, fulfil, cancel) are re-sent
// only after reading back whether the lost attempt took effect. A line every few seconds shows actions
// done of all, their rate, requests, retries and the time left.
//
// Running it again is safe: reports are matched to the plan by reporter, category, place and time and not
// filed twice (report idempotency keys expire after a day, which is weeks ago on the month's clock), a
// department action already applied is skipped, callbacks carry deterministic webhook ids and redemptions
// deterministic idempotency keys, so a second run only adds what had not happened yet.
package demo
