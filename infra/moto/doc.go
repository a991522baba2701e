// Package moto holds the local AWS that integration tests and `make run` use: serve.py (moto's WSGI app,
// one request at a time), patches.py (every change serve.py makes to moto 5.2.5, each documented and
// switchable with serve.py --without-patch NAME) and, in Go, only tests and benchmarks:
//
//   - TestPythonPatches runs the Python tests beside this file (test_patches.py: each patch's effect and
//     moto's behaviour without it; test_differential.py: patched and stock moto answer random workloads
//     identically — the suite that says what a moto upgrade broke), so `go test ./...` runs them;
//   - TestStreamRetention shows over HTTP, with the AWS SDK's own error types, that stream records and
//     shard iterators expire as in DynamoDB;
//   - the benchmarks measure TransactWriteItems, Query and index Query at 1,000, 10,000 and 100,000 items:
//     go test -run '^$' -bench . -benchtime 200x ./infra/moto/
//     (MOTO_BENCH_ARGS="--without-patch query_indexes" and the like compare with moto's own code).
//
// The server itself is started by infra/motoserver.
package moto
