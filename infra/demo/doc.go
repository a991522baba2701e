// Package demo loads a realistic month of a small city into a running local stack (`make demo` against
// `make run`): scaled-down Mengzi proportions — about 600 reports over 30 days from 150 citizens across the
// ten categories and the seeded areas, some duplicates, some invalid, a few sent back as "not ours", some
// resolved late and escalated, most resolved, points redeemed for goods, donations and credit.
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
// AWS, only at the month's moments. The loader plans the month deterministically (seeded RNG), then
// replays it in time order, one event at a time, through the real HTTP API: it sets the clock to the
// event's moment, then
//   - a citizen registers (GET /v1/me), uploads a photo with the presigned POST and files a report
//     (POST /v1/reports); the real dispatch stream consumer routes it (or marks it a duplicate) at that
//     moment, which the loader waits for (drain) before the clock moves on;
//   - departments act as they would: systems with a webhook send signed callbacks
//     (POST /v1/departments/{dept}/events, proof photos through /v1/departments/{dept}/uploads), housing
//     and the command center use the staff API; the real accrual consumer then awards points from the
//     stored resolution time;
//   - the sweeper runs every three hours of the month (POST /_local/schedules/SweeperFunction), so late
//     cases are escalated (督办) when they fall due;
//   - citizens redeem (POST /v1/redemptions), clerks hand goods over (…/fulfil), a few cancel; an admin
//     revokes a few resolutions.
//
// Events planned after the wall clock have not happened yet and are left out, so the newest reports are
// still open, as in a real city. At the end the clock is reset, the pumps drained and the KPI roll-up
// backfilled for the month (POST /_local/schedules/KpiFunction {"from","to"}).
//
// Running it again is safe: reports are matched to the plan by reporter, category, place and time and not
// filed twice (report idempotency keys expire after a day, which is weeks ago on the month's clock), a
// department action already applied is skipped, callbacks carry deterministic webhook ids and redemptions
// deterministic idempotency keys, so a second run only adds what had not happened yet.
//
// The plan is checked before anything is sent (plan_test.go): only the planned duplicates lie within
// dispatch's 50 m and 72 h of an earlier report of their category, every report is in the city, and the
// month has the intended proportions. The summary compares the plan with GET /v1/kpi/summary.
package demo
