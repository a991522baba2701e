// Package motoserver starts and stops a local moto server (DynamoDB, DynamoDB Streams, S3, SQS) for
// integration tests and the local runner.
//
// The server is infra/moto/serve.py run by the virtualenv python that `make venv` creates. It applies
// requests one at a time: moto's stock threaded server can lose a write when a TransactWriteItems is
// cancelled concurrently with it (moto restores a deep copy of the table taken before the transaction),
// so conditional-write tests against it would prove nothing.
//
// Typical use in a test:
//
//	srv := motoserver.ForTest(t)
//	cfg, err := srv.AWSConfig(ctx)
//	db := dynamodb.NewFromConfig(cfg)
//	blobs := s3.NewFromConfig(cfg, motoserver.S3Options)
//
// S3 against moto needs path-style addressing (http://127.0.0.1:PORT/bucket/key): virtual-hosted style
// would put the bucket in the host name (bucket.127.0.0.1), which does not resolve. aws.Config cannot
// carry that setting, so pass S3Options to s3.NewFromConfig (and to s3.NewPresignClient's client) as above.
package motoserver
