package cost

// Prices are AWS list prices in US dollars, us-east-1, on-demand, without free tiers, as published on the
// AWS pricing pages (DynamoDB's on-demand prices since their November 2024 cut), checked 2026-11-30.
type Prices struct {
	WriteUnit     float64 // DynamoDB on-demand, per write request unit
	ReadUnit      float64 // DynamoDB on-demand, per read request unit
	S3Put         float64 // S3 Standard PUT, COPY, POST, LIST request
	S3Get         float64 // S3 Standard GET, HEAD request
	SQSRequest    float64 // SQS standard queue request (per 64 KB chunk)
	LambdaRequest float64 // Lambda request
	LambdaGBs     float64 // Lambda arm64, per GB-second
	LambdaMemGB   float64 // the functions' memory (template.yaml: 256 MB)
	HTTPAPI       float64 // API Gateway HTTP API request (first 300 million a month)
	Secrets       float64 // Secrets Manager API call
}

// ListPrices are the prices the cost command uses.
var ListPrices = Prices{
	WriteUnit:     0.625 / 1e6,
	ReadUnit:      0.125 / 1e6,
	S3Put:         0.005 / 1e3,
	S3Get:         0.0004 / 1e3,
	SQSRequest:    0.40 / 1e6,
	LambdaRequest: 0.20 / 1e6,
	LambdaGBs:     0.0000133334,
	LambdaMemGB:   0.25,
	HTTPAPI:       1.00 / 1e6,
	Secrets:       0.05 / 1e4,
}
